"""Telegram: updates (webhook or polling) -> `InboundMessage`, `/start` greeting, replies with the bot."""
