"""One way for a page to follow changes: a per-stream sequence number and a server-sent events stream.

- sequence.py: `bump(key)` in the transaction of a change numbers it (LiveSequence row per key:
  "job:5", "wave:12", "setup:3", "dashboard") and wakes the key's streams when it commits.
- stream.py: `endpoint(FeedClass)`, the view a page follows: text/event-stream, or the same answer as
  JSON for `?format=json` (the page's polling fallback). Each message carries the sequence it is
  complete up to; the browser's Last-Event-ID (or `?since=`) says where to resume.
- readers.py: the threads streams read the database through (no connection held while waiting).
- slots.py: caps on open streams per user and per process (429 past them: the page polls).
- wakeup.py: Redis pub/sub announcements of committed changes, per key.
- static/js/live.js: the browser side.
"""
