"""Checksums still work on a FIPS-mode host (RHEL and hardened images).

There OpenSSL refuses MD5 (and Python's builtin BLAKE2) unless the caller says the digest
is not a security use: CPython's ``_hashopenssl.c`` then raises ``ValueError`` from
``EVP_DigestInit_ex`` ("disabled for FIPS"). The fake below refuses the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from deltastore.extract.demo.rng import hash_bits
from deltastore.sync.statements import Column, row_hash


def _fips_only(real: Callable[..., Any]) -> Callable[..., Any]:
    def digest(*args: Any, usedforsecurity: bool = True, **kwargs: Any) -> Any:
        if usedforsecurity:
            raise ValueError("[digital envelope routines: EVP_DigestInit_ex] disabled for FIPS")
        return real(*args, usedforsecurity=False, **kwargs)
    return digest


def test_checksums_do_not_ask_for_a_security_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    expected_row = row_hash([1, "x"], [Column("id", "int"), Column("name", "text")])
    expected_bits = hash_bits(7, 1, 2)
    monkeypatch.setattr(hashlib, "md5", _fips_only(hashlib.md5))
    monkeypatch.setattr(hashlib, "blake2b", _fips_only(hashlib.blake2b))
    with pytest.raises(ValueError, match="FIPS"):
        hashlib.md5(b"x")
    assert row_hash([1, "x"], [Column("id", "int"), Column("name", "text")]) == expected_row
    assert hash_bits(7, 1, 2) == expected_bits
