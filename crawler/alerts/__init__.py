"""Alert channels (one module each) behind one small interface, and the outbox.

``outbox`` queues and tracks alert rows; ``delivery`` sends what is due (``deliver_pending``,
``send_test``); ``registry`` maps config keys to channels (``email``, ``slack``), which follow
``base.Channel``; ``content``, ``diff`` and ``render`` build what every message says.
"""
