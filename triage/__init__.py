"""triage: reads what residents send to a UK council, labels it, answers or queues it."""
