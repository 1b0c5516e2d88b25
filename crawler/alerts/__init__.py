"""Alert channels (one module each) behind one small interface, and the outbox.

``outbox`` (in ``crawler.db``) queues and tracks alert rows, one per story version and named
channel; ``delivery`` sends what is due (``deliver_pending``, ``send_test``), holding story
alerts for a channel's scheduled digest (``digests``); ``registry`` maps channel types
(``email``, ``slack``, ``apprise``) to classes that follow ``base.Channel``; ``content``,
``diff`` and ``render`` build what every message says, ``email_body``, ``slack_blocks`` and
``apprise_body`` how each channel says it.
"""
