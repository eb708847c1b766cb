"""Scanned post: a drop folder and an upload endpoint in, reply letters (PDF for the print room) out.

`files` says what a scan file is (or why it is refused), `reader` turns it into
page texts (a PDF's own text layer, else Tesseract on cleaned-up page images),
`letter_fields` finds who wrote and how to reach them, `parse` builds the
`InboundMessage`, `desk` is the one path every intake route takes, `watcher`
runs the drop folder, and `transport` lays out reply letters.
"""
