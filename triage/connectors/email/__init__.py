"""Email: an SMTP server for a council's MX, a poller for an existing IMAP mailbox, and SMTP replies.

Both inbound paths share `parse.parse_email`; `automatic` tells robots from
residents; `transport` sends replies through the council's own SMTP relay.
"""
