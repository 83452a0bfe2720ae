"""The rules every service, door and page share, written once: what each channel is (`channels.py`: the
catalog) and when a message may go out on it (`consent.py`: the customer's consent and WhatsApp's 24-hour
window). Plain data and pure functions over the models: any service may read them."""
