"""AuthFunction: register, login, profile, GDPR export and delete."""

from typing import Annotated

from fastapi import Depends, Query, Response

from companion import accounts
from companion.accounts import LoginBody, ProfileChanges, RegisterBody
from companion.deps import ClientAddress, Student, no_store
from companion.web import create_app, lambda_handler, operation

app = create_app("Course Companion - accounts", "Register, log in and manage your account.")


@app.post(
    "/auth/register",
    status_code=201,
    summary="Create a student account.",
)
@operation(
    operation_id="registerStudent",
    description=(
        "Creates a student account on the free plan from an e-mail, a password (8 characters to "
        "72 bytes), an optional full_name and an IANA timezone. Use only when the student asks to "
        "sign up."
    ),
    returns="accounts.Registered",
    returns_description="The new student's user_id and normalised e-mail.",
    errors=(400, 409, 413, 422, 429),
    status=201,
)
async def register(body: RegisterBody, client: ClientAddress):
    return accounts.register(body, client)


@app.post(
    "/auth/login",
    summary="Exchange e-mail and password for an access token.",
    dependencies=[Depends(no_store)],
)
@operation(
    operation_id="logIn",
    description=(
        "Exchanges the student's e-mail and password for a bearer access token that expires after "
        "expires_in seconds. After 5 failed logins for one e-mail in 15 minutes (or 100 failed "
        "logins and registrations from one network) the answer is 429 rate_limited until "
        "Retry-After seconds pass."
    ),
    returns="accounts.AccessTokenBody",
    returns_description=(
        "access_token, token_type (bearer), exp (unix seconds) and expires_in (seconds)."
    ),
    errors=(400, 401, 413, 422, 429),
    error_notes={
        401: "Wrong e-mail or password (code invalid_credentials).",
    },
    consequential=False,
)
async def login(body: LoginBody, client: ClientAddress):
    return accounts.login(body, client)


@app.get(
    "/v1/me",
    summary="The student's profile and plan.",
)
@operation(
    operation_id="getProfile",
    description=(
        "Returns the student's profile: e-mail, full_name, timezone, the plan (subscription_tier, "
        "subscription_expires_at) and effective_tier, which decides whether premium chapters 4-6 "
        "are open."
    ),
    returns="accounts.Profile",
    returns_description=(
        "user_id, email, full_name, timezone, subscription_tier, subscription_expires_at, "
        "effective_tier, created_at, last_active_at."
    ),
    errors=(401,),
)
async def get_profile(student: Student):
    return accounts.profile(student)


@app.patch(
    "/v1/me",
    summary="Change the student's name or timezone.",
)
@operation(
    operation_id="updateProfile",
    description=(
        "Changes the student's full_name and/or timezone (an IANA name such as Europe/Paris; it "
        "also sets when the streak's days begin and end). Send only the fields to change."
    ),
    returns="accounts.Profile",
    returns_description="The updated profile, as getProfile returns it.",
    errors=(400, 401, 413, 422),
)
async def update_profile(student: Student, body: ProfileChanges):
    return accounts.update_profile(student, body)


@app.get(
    "/v1/me/export",
    summary="Everything stored about the student.",
    dependencies=[Depends(no_store)],
)
@operation(
    operation_id="exportMyData",
    description=(
        "Returns every record held about the student: profile, chapter progress, quiz attempts "
        "with answers and grading, and the streak. Only when the student asks for their data. "
        "Pass attempts_limit=10 and follow quiz_attempts_next page by page."
    ),
    returns="accounts.DataExport",
    returns_description=(
        "exported_at, student, chapter_progress, quiz_attempts (one page), quiz_attempts_next "
        "(the cursor for the next page, null at the end) and streak."
    ),
    errors=(401, 422),
)
async def export_my_data(
    student: Student,
    attempts_limit: Annotated[
        int | None,
        Query(ge=1, le=100, description="At most this many quiz attempts (oldest first)."),
    ] = None,
    attempts_after: Annotated[
        str | None,
        Query(max_length=36, description="The quiz_attempts_next of the previous page."),
    ] = None,
):
    return accounts.export(student, attempts_limit, attempts_after)


@app.delete(
    "/v1/me",
    status_code=204,
    summary="Permanently delete the student's account.",
)
@operation(
    operation_id="deleteAccount",
    description=(
        "Permanently deletes the student's account with all progress, quiz attempts and streak. "
        "It cannot be undone. Call only after the student has explicitly confirmed that they want "
        "their account deleted."
    ),
    returns=None,
    returns_description="No content: the account is gone and its token stops working.",
    errors=(401,),
    status=204,
    consequential=True,
)
async def delete_account(student: Student):
    accounts.delete_account(student)
    return Response(status_code=204)


handler = lambda_handler(app)
