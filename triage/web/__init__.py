"""The web application: webhooks, the chat widget, staff pages, health and metrics."""
