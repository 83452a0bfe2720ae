"""Contacts: the people we message, their fields and consent, CSV import, and who a send or an inbound message belongs to."""
