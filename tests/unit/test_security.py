"""Passwords and tokens in the layer, without the stack."""

from __future__ import annotations

import pytest

from companion import security
from companion.errors import ServiceUnavailable, Unauthorized


@pytest.fixture(autouse=True)
def settings(environment):
    return environment(BCRYPT_ROUNDS="4", JWT_SECRET="s" * 32)


def test_a_hash_verifies_its_password_only():
    stored = security.hash_password("correct horse")
    assert stored.startswith("$2b$04$")  # the configured cost
    assert "correct horse" not in stored
    assert security.verify_password("correct horse", stored)
    assert not security.verify_password("correct horsE", stored)
    assert not security.verify_password("", stored)


def test_two_hashes_of_one_password_differ():
    assert security.hash_password("same password") != security.hash_password("same password")


def test_no_password_is_truncated_to_72_bytes():
    exactly_72 = "é" * 36
    stored = security.hash_password(exactly_72)
    assert security.verify_password(exactly_72, stored)
    assert not security.verify_password(exactly_72 + "x", stored)
    with pytest.raises(ValueError):
        security.hash_password(exactly_72 + "x")


def test_a_damaged_stored_hash_is_a_mismatch_not_a_crash():
    assert not security.verify_password("anything", "not a bcrypt hash")


def test_the_dummy_check_accepts_any_password():
    security.verify_against_dummy_hash("short")
    security.verify_against_dummy_hash("x" * 500)


def test_a_token_names_its_student_until_it_expires():
    token = security.issue_access_token("3c2f8a9e-0000-4000-8000-000000000001", "premium")
    assert token.expires_in == 60 * 60
    assert security.student_id_from_token(token.token) == "3c2f8a9e-0000-4000-8000-000000000001"
    # A character well inside the signature: all six of its bits count.
    position = len(token.token) - 10
    swapped = "A" if token.token[position] != "A" else "B"
    tampered = token.token[:position] + swapped + token.token[position + 1 :]
    with pytest.raises(Unauthorized):
        security.student_id_from_token(tampered)


def test_a_secret_shorter_than_32_bytes_refuses_to_issue_or_check_tokens(settings):
    token = security.issue_access_token("someone", "free").token
    settings(JWT_SECRET="s" * 31)
    with pytest.raises(ServiceUnavailable):
        security.issue_access_token("someone", "free")
    with pytest.raises(ServiceUnavailable):
        security.student_id_from_token(token)


def test_a_deployed_function_never_hashes_below_cost_10(settings):
    import bcrypt

    settings(AWS_LAMBDA_FUNCTION_NAME="course-companion-auth")
    hashed = security.hash_password("correct horse battery")
    assert bcrypt.checkpw(b"correct horse battery", hashed.encode())
    assert hashed.split("$")[2] == "10"
