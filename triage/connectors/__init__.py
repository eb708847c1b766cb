"""One small package per channel: parse raw input into an `InboundMessage`, send replies.

Connectors never import `classify/` or `decide.py`: they only translate between
the wire and the normalised types.
"""
