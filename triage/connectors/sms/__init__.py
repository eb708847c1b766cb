"""SMS through Twilio: inbound webhook form -> `InboundMessage`, keywords, outbound replies."""
