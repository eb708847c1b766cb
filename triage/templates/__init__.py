"""Reply templates (Jinja2, English and Welsh) and their rendering per channel.

Templates hold wording only: every council value (name, URLs, phone numbers,
opening hours) comes from the council file, so one set of templates serves any
council. Nothing here does I/O beyond reading the template files.
"""
