"""Orders of a round's rows that nobody without the app's secret can undo.

Response and answer ids follow the order responses came in, and staff watching invitations
turn "submitted" one after the other can pair that order with units. So whatever lists an
anonymous round's responses or comments one by one (the raw export's rows, the comment lists)
puts them in an order keyed by the app's ``SECRET_KEY``, the round and the list's purpose: the
same at every view (pages stay stable), different for every round and list, and not
recomputable back to ids from the code alone, as a fixed formula would be.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import BigInteger, ColumnElement, cast

# A prime above any id (2**31 - 1): the affine map id -> (id * a + b) mod P is then a
# permutation of the ids, and id * a + b stays below 2**63 (PostgreSQL's bigint, SQLite's
# integer).
PRIME = 2_147_483_647


def round_key(purpose: str, round_id: int, size: int = 8) -> bytes:
    """``size`` secret bytes for one purpose and round, from the app's secret."""
    secret = hashlib.sha256(str(current_app.config["SECRET_KEY"]).encode()).digest()
    return hashlib.blake2b(f"{purpose}:{round_id}".encode(), key=secret, digest_size=size).digest()


def keyed_order(column: ColumnElement[int], purpose: str, round_id: int) -> ColumnElement[int]:
    """A SQL sort key of ``column`` (an id): a keyed permutation modulo ``PRIME``, an affine
    map, the fifth power (a permutation: 5 does not divide PRIME - 1) and another affine map.
    An affine map alone orders ids a constant step apart (answers to a question, as they
    come in) so that each one's list neighbour is at one of three steps from it (the
    three-distance theorem): a few comments' places in the order they came would give the
    steps, and from them every comment's. Each product stays below 2**63."""
    key = round_key(purpose, round_id, 32)
    a, c = (int.from_bytes(key[k : k + 8], "big") % (PRIME - 1) + 1 for k in (0, 16))
    b, d = (int.from_bytes(key[k : k + 8], "big") % PRIME for k in (8, 24))
    x = (cast(column, BigInteger) * a + b) % PRIME
    square = (x * x) % PRIME
    fifth = (((square * square) % PRIME) * x) % PRIME
    return (fifth * c + d) % PRIME
