"""
Loaded by Schemathesis (schemathesis.toml's `hooks`) before it reads the API's document.

Some rules of the API hold between parameters, or need a value only the server can make, so the
document states them in words: no JSON Schema of separate parameters can. A request that breaks
only such a rule is valid to Schemathesis and refused by the server, and `filter_failure` drops
exactly that refusal, by its status and problem code; every other failure stays.
"""

import json

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData

# A tus PATCH sends raw bytes as application/offset+octet-stream, which Schemathesis has no
# serializer for: it is sent as application/octet-stream is, the bytes as they are.
TUS_BODY = "application/offset+octet-stream"
schemathesis.serializer.alias(TUS_BODY, "application/octet-stream")


def problem_code(response):
    try:
        return json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return None


def made_up_cursor(case, response):
    """A cursor is opaque: only a page's `next` is one, so any other string is 400 `invalid-query`."""
    return case.query.get("cursor") not in (None, "") and problem_code(response) == "invalid-query"


def transformation_rule(case, response):
    """
    Without `sig`, w and h are VARIANT_SIZES and q and enlarge are refused; preset stands alone;
    fit and enlarge need w or h: 400 `invalid-transformation` (a HEAD says it with no body).
    """
    return problem_code(response) == "invalid-transformation" or case.method.upper() == "HEAD"


def repeated_metadata_key(case, response):
    """tus 1.0 names each Upload-Metadata key once, which a pattern cannot say."""
    pairs = (case.headers or {}).get("Upload-Metadata", "").split(",")
    keys = [pair.split(" ")[0] for pair in pairs]
    return len(keys) != len(set(keys)) and problem_code(response) == "malformed-tus-request"


def not_an_image(case, response):
    """Uploaded bytes must be an image of ALLOWED_TYPES, which no generator draws: 415."""
    return problem_code(response) == "unsupported-image-type"


RULES_IN_WORDS = {
    "listImages": (400, made_up_cursor),
    "describeImage": (400, made_up_cursor),
    "getImage": (400, transformation_rule),
    "headImage": (400, transformation_rule),
    "createResumableUpload": (400, repeated_metadata_key),
    "uploadImages": (415, not_an_image),
}


def breaks_only_a_rule_in_words(failure, case, response):
    if not isinstance(failure, RejectedPositiveData):
        return False
    status, rule = RULES_IN_WORDS.get(case.operation.definition.raw.get("operationId"), (None, None))
    return response.status_code == status and rule(case, response)


def tus_body_of_another_type(failure, case):
    """
    Bytes have no type: a PATCH body made "of the wrong type" is sent as more bytes, a valid body.
    Schemathesis knows this of application/octet-stream, and not of its tus variant.
    """
    phase = case.meta.phase.data if case.meta is not None else None
    only_the_body = getattr(phase, "parameter_location", None) == ParameterLocation.BODY
    return isinstance(failure, AcceptedNegativeData) and case.media_type == TUS_BODY and only_the_body


@schemathesis.hook
def filter_failure(context, failure, case, response):
    return not (breaks_only_a_rule_in_words(failure, case, response) or tus_body_of_another_type(failure, case))
