"""Analytics: the message counters kept from the Message stream, and the dashboard's and the charts' views of them."""
