"""Shared types, named as in `temporalio.common`."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Generic, Iterator, List, NamedTuple, Optional, Sequence, TypeVar

from wit_world.imports import workflow_options as wo
from wit_world.imports.types import Payload

__all__ = [
    "RetryPolicy", "RawValue", "SearchAttributeIndexedValueType", "SearchAttributeKey", "SearchAttributeUpdate",
    "SearchAttributePair", "TypedSearchAttributes",
]

T = TypeVar("T")


def millis(duration: timedelta) -> int:
    """Whole milliseconds of `duration` (at least 1 when it is positive)."""
    ms = round(duration.total_seconds() * 1000)
    return max(ms, 1) if duration > timedelta(0) else 0


@dataclass
class RetryPolicy:
    """How Temporal retries a failed activity, as in `temporalio.common`.

    Unset fields take Temporal's defaults (1 s, 2.0, 100 x the initial
    interval, unlimited attempts).
    """

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: Optional[timedelta] = None
    maximum_attempts: int = 0
    non_retryable_error_types: Optional[Sequence[str]] = field(default=None)

    def to_wit(self) -> wo.RetryPolicy:
        return wo.RetryPolicy(
            initial_interval_ms=millis(self.initial_interval),
            backoff_coefficient=float(self.backoff_coefficient),
            maximum_interval_ms=millis(self.maximum_interval) if self.maximum_interval else 0,
            maximum_attempts=self.maximum_attempts,
            non_retryable_error_types=list(self.non_retryable_error_types or []),
        )


@dataclass(frozen=True)
class RawValue:
    """A payload not yet converted: what a dynamic signal, query or update
    handler gets for each argument (as in temporalio). Convert one with
    `workflow.payload_converter().from_payload(raw.payload, type_hint)`."""

    payload: Payload


class SearchAttributeIndexedValueType(IntEnum):
    """The type Temporal indexes a search attribute as (temporalio's values)."""

    TEXT = 1
    KEYWORD = 2
    INT = 3
    DOUBLE = 4
    BOOL = 5
    DATETIME = 6
    KEYWORD_LIST = 7


# The `type` metadata of a typed search attribute's payload, as temporalio
# writes it (the server checks it against the attribute's registered type).
_METADATA_TYPE = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


@dataclass(frozen=True)
class SearchAttributeKey(Generic[T]):
    """A typed search attribute's name and type: `SearchAttributeKey.for_keyword("CustomerId")`."""

    name: str
    indexed_value_type: SearchAttributeIndexedValueType
    value_type: Any

    def value_set(self, value: T) -> "SearchAttributeUpdate[T]":
        return SearchAttributeUpdate(self, value)

    def value_unset(self) -> "SearchAttributeUpdate[T]":
        return SearchAttributeUpdate(self, None)

    @property
    def _metadata_type(self) -> str:
        return _METADATA_TYPE[self.indexed_value_type]

    @staticmethod
    def for_text(name: str) -> "SearchAttributeKey[str]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.TEXT, str)

    @staticmethod
    def for_keyword(name: str) -> "SearchAttributeKey[str]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.KEYWORD, str)

    @staticmethod
    def for_int(name: str) -> "SearchAttributeKey[int]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.INT, int)

    @staticmethod
    def for_float(name: str) -> "SearchAttributeKey[float]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.DOUBLE, float)

    @staticmethod
    def for_bool(name: str) -> "SearchAttributeKey[bool]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.BOOL, bool)

    @staticmethod
    def for_datetime(name: str) -> "SearchAttributeKey[datetime]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.DATETIME, datetime)

    @staticmethod
    def for_keyword_list(name: str) -> "SearchAttributeKey[Sequence[str]]":
        return SearchAttributeKey(name, SearchAttributeIndexedValueType.KEYWORD_LIST, list)


@dataclass(frozen=True)
class SearchAttributeUpdate(Generic[T]):
    """A value to set (or, when None, unset) for a key: `key.value_set(v)`."""

    key: SearchAttributeKey
    value: Optional[Any]


class SearchAttributePair(NamedTuple):
    key: SearchAttributeKey
    value: Any


@dataclass(frozen=True)
class TypedSearchAttributes:
    """Typed search attributes: pairs of key and value."""

    search_attributes: Sequence[SearchAttributePair] = ()

    def __iter__(self) -> Iterator[SearchAttributePair]:
        return iter(self.search_attributes)

    def __len__(self) -> int:
        return len(self.search_attributes)

    def __contains__(self, key: object) -> bool:
        name = key.name if isinstance(key, SearchAttributeKey) else key
        return any(p.key.name == name for p in self.search_attributes)

    def get(self, key: SearchAttributeKey, default: Any = None) -> Any:
        return next((p.value for p in self.search_attributes if p.key.name == key.name), default)

    def updated(self, *updates: SearchAttributeUpdate) -> "TypedSearchAttributes":
        pairs: List[SearchAttributePair] = list(self.search_attributes)
        for u in updates:
            pairs = [p for p in pairs if p.key.name != u.key.name]
            if u.value is not None:
                pairs.append(SearchAttributePair(u.key, u.value))
        return TypedSearchAttributes(pairs)


TypedSearchAttributes.empty = TypedSearchAttributes()  # type: ignore[attr-defined]
