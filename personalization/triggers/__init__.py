"""Triggers and outbound webhooks: tell an email system when something happens to a visitor."""
