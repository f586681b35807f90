"""What the corrective-action loop announces, for listeners above it (the webhooks) that it
must not import: ``action_opened`` (a new action, or one reopened; ``reopened`` says which) and
``action_closed`` (closed as effective, or cancelled), each sent with the action once its row
is flushed, inside the caller's transaction."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
action_opened = _signals.signal("action-opened")
action_closed = _signals.signal("action-closed")
