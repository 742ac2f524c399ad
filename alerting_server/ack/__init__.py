"""Acknowledgement: who may acknowledge, signed links in notifications, and what an acknowledgement does."""
