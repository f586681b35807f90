"""Writes survey/data/common_passwords.txt: passwords an attacker tries first, lower case, one a
line, 8 characters or more (shorter ones fail the length rule anyway).

Made here rather than copied: the words, keyboard walks, names and numbers that head every
published list of leaked passwords (the office's own words and pinyin among them), each with
the decorations people add to pass a length rule (years, 123…, !, repeated words). Run
`python scripts/common_passwords.py` after changing it; the file is committed.
"""

from __future__ import annotations

import itertools
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "survey" / "data" / "common_passwords.txt"

WORDS = [
    "password",
    "passw0rd",
    "p@ssword",
    "p@ssw0rd",
    "pass",
    "letmein",
    "welcome",
    "welcome1",
    "iloveyou",
    "admin",
    "administrator",
    "root",
    "qwerty",
    "qwertyuiop",
    "asdfgh",
    "asdfghjkl",
    "zxcvbnm",
    "azerty",
    "qazwsx",
    "1qaz2wsx",
    "1qaz2wsx3edc",
    "zaq12wsx",
    "abc",
    "abcd",
    "abcdef",
    "abcdefg",
    "abcdefgh",
    "abcdefghij",
    "monkey",
    "dragon",
    "master",
    "shadow",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "hockey",
    "superman",
    "batman",
    "trustno1",
    "starwars",
    "pokemon",
    "freedom",
    "whatever",
    "nothing",
    "secret",
    "secret1",
    "login",
    "changeme",
    "default",
    "guest",
    "test",
    "tester",
    "testing",
    "hello",
    "hello123",
    "hellokitty",
    "charlie",
    "michael",
    "jennifer",
    "jordan",
    "thomas",
    "hunter",
    "ranger",
    "buster",
    "computer",
    "internet",
    "server",
    "office",
    "government",
    "survey",
    "shaoxing",
    "zhejiang",
    "china",
    "beijing",
    "shanghai",
    "woaini",
    "woaini1314",
    "wozhidao",
    "zhangwei",
    "wangwei",
    "liwei",
    "nihao",
    "aini1314",
    "5201314",
    "1314520",
    "iloveu",
    "qwe",
    "qweasd",
    "qweasdzxc",
    "asd123",
    "zxc123",
    "aa123456",
    "a123456",
    "a12345678",
    "abc123",
    "abc12345",
    "abcd1234",
    "summer",
    "winter",
    "spring",
    "autumn",
    "monday",
    "friday",
    "january",
    "december",
    "love",
    "lover",
    "lovely",
    "flower",
    "mustang",
    "harley",
    "maggie",
    "ginger",
    "cookie",
    "chocolate",
    "banana",
    "orange",
    "apple",
    "pepper",
    "killer",
    "jesus",
    "angel",
    "angels",
    "baby",
    "babygirl",
    "family",
    "friends",
    "forever",
    "together",
    "samsung",
    "nokia",
    "apple123",
    "iphone",
    "google",
    "yahoo",
    "microsoft",
    "windows",
    "linux",
    "ubuntu",
    "oracle",
    "mysql",
    "database",
    "backup",
]

NUMBERS = [
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "0",
    "00",
    "000",
    "007",
    "69",
    "88",
    "888",
    "666",
    "520",
    "1314",
    "2024",
    "2025",
    "2026",
    "2027",
    "2023",
    "2022",
    "2020",
    "2010",
    "2000",
    "1999",
    "1990",
    "01",
    "11",
    "111",
    "1111",
    "321",
    "4321",
    "54321",
    "654321",
    "987654321",
    "!",
    "!!",
    "@123",
    "#1",
    "123!",
    "1!",
    "@",
    ".",
    "_123",
    "123456!",
    "12345!",
]

WALKS = [
    "1234567890",
    "0987654321",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5",
    "qazwsxedc",
    "qazwsxedcrfv",
    "1qaz2wsx3edc4rfv",
    "!qaz2wsx",
    "!qaz@wsx",
    "zaq1xsw2",
    "zaq1zaq1",
    "qwer1234",
    "asdf1234",
    "zxcv1234",
    "qwerasdf",
    "qwerasdfzxcv",
    "1234qwer",
    "1234asdf",
    "147258369",
    "159357",
    "159753",
    "741852963",
    "963852741",
    "123123123",
    "123321123",
    "112233445566",
    "11223344",
]


def candidates():
    yield from WALKS
    for word, number in itertools.product(WORDS, NUMBERS):
        yield word
        yield word + number
        yield word.capitalize() + number
        yield number + word
        yield word + word
        yield word + "@" + number
    for digit in "0123456789abcdefghijklmnopqrstuvwxyz":
        for length in range(8, 17):
            yield digit * length
    for year in range(1950, 2031):
        for word in WORDS[:80]:
            yield f"{word}{year}"
    for length in range(8, 17):
        yield "1234567890"[:length] if length <= 10 else None
        yield ("1234567890" * 2)[:length]
        yield ("0123456789" * 2)[:length]
        yield ("9876543210" * 2)[:length]
        yield ("abcdefghijklmnopqrstuvwxyz")[:length]
        yield ("qwertyuiopasdfghjklzxcvbnm")[:length]


def main() -> None:
    seen = sorted({c.lower() for c in candidates() if c and len(c) >= 8})
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(seen) + "\n", encoding="utf-8")
    print(f"{len(seen)} passwords in {TARGET}")


if __name__ == "__main__":
    main()
