"""A module for tests/config/test_lazy_modules.py to import through a stand-in."""

ANSWER = 42


def answer_twice() -> int:
    return ANSWER * 2
