"""Claude through the official SDK, with structured output and prompt caching.

SDK exceptions are translated here into Bright Run's errors so nothing above sees `anthropic`.
Every HTTP answer is seen on its way in (the SDK's own retries included): its rate-limit headers
and whether it was a refusal (429/529) travel up with the call's Answer or error, for pacing.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import anthropic

from brightrun_gen.domain.models import GeneratedConversation
from brightrun_gen.domain.pricing import Usage
from brightrun_gen.domain.prompts import RenderedPrompt
from brightrun_gen.domain.ratelimits import read_headers
from brightrun_gen.errors import BrightRunError, InvalidAnswer, ProviderError, RateLimited
from brightrun_gen.llm.base import Answer, StructuredPrompt

_SCHEMA = anthropic.transform_schema(GeneratedConversation.model_json_schema())


@dataclass(frozen=True)
class AnthropicSettings:
    api_key: str = field(repr=False)  # never in a repr, a log line or a traceback's locals
    model: str
    max_tokens: int
    timeout: float
    max_retries: int
    base_url: str | None = None


def request_params(prompt: RenderedPrompt, model: str, max_tokens: int) -> dict:
    """The Messages API parameters for one prompt; the same for direct calls and batches.

    The static parts (system rules, then persona/arc context) carry cache breakpoints so
    repeated calls with the same persona and arc read them from the prompt cache.
    """
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}],
        "messages": [{
            "role": "user",
            "content": [
                {"type": "text", "text": prompt.context, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": prompt.request},
            ],
        }],
        "output_config": {"format": {"type": "json_schema", "schema": _SCHEMA}},
    }


def answer_from_message(message, retries: int = 0, **seen) -> Answer:
    """Our Answer from an SDK Message (direct call or batch result); `seen`: rate_limits, refused."""
    text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
    u = message.usage
    usage = Usage(
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        cache_creation_tokens=getattr(u, "cache_creation_input_tokens", 0) or 0,
        cache_read_tokens=getattr(u, "cache_read_input_tokens", 0) or 0,
        calls=1,
    )
    return Answer(text=text, stop_reason=message.stop_reason, model=message.model, usage=usage, retries=retries,
                  **seen)


def account_of(api_key: str, base_url: str | None) -> str:
    """A fingerprint of the key and the endpoint the limits are counted against; the key stays secret."""
    return hashlib.sha256(f"{base_url or 'https://api.anthropic.com'}\n{api_key}".encode()).hexdigest()[:16]


class _Tries(threading.local):
    """What the HTTP answers of this thread's current call said, the SDK's retries included."""

    refused = 0
    headers = None


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, settings: AnthropicSettings):
        self.model = settings.model
        self.max_tokens = settings.max_tokens
        self.account = account_of(settings.api_key, settings.base_url)
        self._api_key = settings.api_key
        self._tries = _Tries()
        self.client = anthropic.Anthropic(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            http_client=anthropic.DefaultHttpxClient(event_hooks={"response": [self._seen]}),
        )

    def _seen(self, response) -> None:
        """Every HTTP answer, in the calling thread (the client is synchronous)."""
        self._tries.headers = response.headers
        if response.status_code in (429, 529):
            self._tries.refused += 1

    def _seen_so_far(self) -> dict:
        headers = self._tries.headers
        return {"rate_limits": read_headers(headers, datetime.now(timezone.utc)) if headers is not None else {},
                "refused": self._tries.refused}

    def request_params(self, prompt: RenderedPrompt) -> dict:
        """This provider's parameters for one call (the judge swaps in its own answer schema)."""
        return request_params(prompt, self.model, self.max_tokens)

    def generate(self, prompt: RenderedPrompt) -> Answer:
        return self._create(self.request_params(prompt))

    def _create(self, params: dict) -> Answer:
        """One Messages API call with what its answers said about the rate limits."""
        self._tries.refused, self._tries.headers = 0, None
        try:
            message, retries = self._call(params)
        except BrightRunError as exc:
            seen = self._seen_so_far()
            exc.rate_limits, exc.refused = seen["rate_limits"], seen["refused"]
            raise
        return answer_from_message(message, retries=retries, **self._seen_so_far())

    def _call(self, params: dict):
        """One Messages API call: the message and the SDK's retries; SDK errors come out as Bright Run's."""
        try:
            raw = self.client.messages.with_raw_response.create(**params)
            message = raw.parse()
        except anthropic.APIStatusError as exc:
            raise _translate_status(exc, self._api_key) from None
        except anthropic.APITimeoutError:
            raise ProviderError(f"the Messages API did not answer within the timeout (model {self.model})",
                                retryable=True) from None
        except anthropic.APIConnectionError as exc:
            raise ProviderError(f"cannot reach the Messages API: {exc.__class__.__name__}", retryable=True) from None
        except anthropic.APIResponseValidationError:
            raise InvalidAnswer("the Messages API answered with a body that is not a valid message") from None
        except ValueError as exc:  # a body that is not JSON at all
            raise InvalidAnswer(f"the Messages API answered with an unreadable body: {exc}") from None
        return message, getattr(raw, "retries_taken", 0)

    def count_tokens(self, prompt: RenderedPrompt) -> int:
        params = request_params(prompt, self.model, self.max_tokens)
        params.pop("max_tokens")
        try:
            return self.client.messages.count_tokens(**params).input_tokens
        except anthropic.APIError as exc:
            raise ProviderError(f"token counting failed: {exc.__class__.__name__}") from None

    def structured(self, prompt: StructuredPrompt) -> Answer:
        """A one-off request answered as JSON in the prompt's schema (not a conversation)."""
        return self._create({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": prompt.system,
            "messages": [{"role": "user", "content": prompt.request}],
            "output_config": {"format": {"type": "json_schema",
                                         "schema": anthropic.transform_schema(prompt.schema.model_json_schema())}},
        })

    # --- Message Batches -------------------------------------------------------------------

    def submit_batch(self, prompts: dict[str, RenderedPrompt]) -> str:
        requests = [{"custom_id": cid, "params": request_params(p, self.model, self.max_tokens)} for cid, p in prompts.items()]
        try:
            return self.client.messages.batches.create(requests=requests).id
        except anthropic.APIError as exc:
            raise _translate(exc, self._api_key) from None

    def batch_status(self, batch_id: str) -> str:
        """'in_progress', 'canceling' or 'ended'."""
        try:
            return self.client.messages.batches.retrieve(batch_id).processing_status
        except anthropic.APIError as exc:
            raise _translate(exc, self._api_key) from None

    def batch_results(self, batch_id: str) -> dict[str, Answer | ProviderError]:
        results: dict[str, Answer | ProviderError] = {}
        try:
            for entry in self.client.messages.batches.results(batch_id):
                if entry.result.type == "succeeded":
                    results[entry.custom_id] = answer_from_message(entry.result.message)
                else:
                    results[entry.custom_id] = ProviderError(f"batch request {entry.result.type}", retryable=True)
        except anthropic.APIError as exc:
            raise _translate(exc, self._api_key) from None
        return results


def _translate(exc: Exception, api_key: str | None = None) -> ProviderError:
    if isinstance(exc, anthropic.APIStatusError):
        return _translate_status(exc, api_key)
    return ProviderError(f"Messages API error: {exc.__class__.__name__}", retryable=True)


def _translate_status(exc: anthropic.APIStatusError, api_key: str | None = None) -> ProviderError:
    status = exc.status_code
    retry_after = _retry_after(exc.response.headers)
    if status == 429:
        return RateLimited("the Messages API is rate limiting (429) after the SDK's retries", retry_after)
    if status == 529:
        return RateLimited("the Messages API is overloaded (529) after the SDK's retries", retry_after)
    if status in (401, 403):
        return ProviderError(f"the API key was refused ({status}): check ANTHROPIC_API_KEY")
    if status >= 500:
        return ProviderError(f"the Messages API failed with {status} after the SDK's retries", retryable=True)
    message = getattr(exc, "message", "") or ""
    if api_key:  # a gateway may repeat the key it was given; the message is stored and shown
        message = message.replace(api_key, "[redacted API key]")
    return ProviderError(f"the Messages API rejected the request ({status}): {message[:300]}")


def _retry_after(headers) -> float | None:
    """Seconds to wait from retry-after (seconds or HTTP date) or the rate-limit reset headers."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
            except (TypeError, ValueError):
                pass
    reset = headers.get("anthropic-ratelimit-requests-reset") or headers.get("anthropic-ratelimit-tokens-reset")
    if reset:
        try:
            return max(0.0, (datetime.fromisoformat(reset.replace("Z", "+00:00")) - datetime.now(timezone.utc)).total_seconds())
        except ValueError:
            return None
    return None
