"""Web chat: sessions with a bearer token, messages into intake, replies the widget polls for."""
