"""The reader's side of the app: login, session list, reading screen, triage queue.

Logic lives in plain-Python state objects (``*_state.py``, ``answers.py``,
``stopwatch.py``) that tests drive without Qt; each screen (``*_widget.py``)
binds to one of them and keeps no private copy of what they hold.
"""
