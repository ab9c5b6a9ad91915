"""Stage 5: the evaluators' one-time codes. A code is CODE_LENGTH random characters from an alphabet
without look-alikes and a check character, shown in fours; only its salted hash is kept, in the
register. A code is typed as people type it: NFKC-normalised, spaces and dashes ignored."""

import hashlib
import re
import secrets
import unicodedata

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianchuang.models import Cycle, Evaluator
from lianchuang.models.db import chunked

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O or 1/I/L: codes are copied by hand and read aloud
CODE_LENGTH = 12  # random characters (about 59 bits), then one check character


def new_code() -> str:
    """A one-time code: CODE_LENGTH random characters and a check character, shown in fours."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = body + _check_character(body)
    return "-".join(code[start:start + 4] for start in range(0, len(code), 4))


def _check_character(body: str) -> str:
    """Weighted sum modulo 31 (a prime): a mistyped character or two swapped neighbours change it."""
    return CODE_ALPHABET[sum((place + 1) * CODE_ALPHABET.index(c) for place, c in enumerate(body)) % len(CODE_ALPHABET)]


def normalized_code(text: str) -> str:
    """A code as typed, made comparable: full-width letters, digits and spaces from a Chinese IME
    become plain ones (NFKC); spaces and dashes go."""
    return re.sub(r"[\s\-－—]", "", unicodedata.normalize("NFKC", text or "")).upper()


def mistyped(code: str) -> bool:
    """A code of the current form whose check character does not match (a copying slip). Codes of
    another length (issued before codes had a check character) are only looked up."""
    code = normalized_code(code)
    if len(code) != CODE_LENGTH + 1:
        return False
    return any(c not in CODE_ALPHABET for c in code) or _check_character(code[:-1]) != code[-1]


def code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{normalized_code(code)}".encode()).hexdigest()


def sitting_token(salt: str, code: str) -> str:
    """The ballot box's name for what one code grades: derived from the code (so a sitting can
    finish its remaining tasks later with the same code, and still count as one voice), in a way
    nobody without the code can join to the register's hash of it."""
    return hashlib.sha256(f"sitting:{salt}:{normalized_code(code)}".encode()).hexdigest()[:16]


def cycle_salt(session: Session, cycle_id: int) -> str:
    cycle = session.get(Cycle, cycle_id)
    if cycle.code_salt is None:
        cycle.code_salt = secrets.token_hex(16)
    return cycle.code_salt


def issue_codes(session: Session, cycle_id: int, evaluator_ids: list[int]) -> dict[int, str]:
    """A new code for each of these evaluators who has not voted, kept only as its salted hash;
    returns the codes to show, once. A code shown before stops working."""
    salt = cycle_salt(session, cycle_id)
    waiting = set()
    for chunk in chunked(evaluator_ids):
        waiting.update(session.scalars(select(Evaluator.id).where(Evaluator.id.in_(chunk), Evaluator.used_at.is_(None))))
    codes = {evaluator_id: new_code() for evaluator_id in evaluator_ids if evaluator_id in waiting}
    if codes:
        session.execute(update(Evaluator), [dict(id=evaluator_id, code_hash=code_hash(salt, code))  # bulk, by primary key
                                            for evaluator_id, code in codes.items()])
    return codes
