"""The chat models of the mock's organization: what the model picker lists and chats run on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import UUID, uuid5

__all__ = ["ORGANIZATION_NAME", "ChatModelConfig", "ModelCatalog", "Provider"]

# The default organization's name in Coder; `{organization}` may be it or the id.
ORGANIZATION_NAME = "coder"
# Ids derive from names under this namespace, so they are the same on every start.
_NAMESPACE = UUID("2b9a3c41-6d0e-4f57-8a1b-5c7e9d0f2a64")
# When the catalog's rows were "created": a fixed instant, so answers are reproducible.
_CREATED = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Provider:
    """An AI provider of the deployment, as the redacted descriptor shows it."""

    id: UUID
    type: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ChatModelConfig:
    """One enabled model config of the organization."""

    id: UUID
    organization_id: UUID
    provider: Provider
    model: str
    display_name: str
    is_default: bool
    context_limit: int
    compression_threshold: int
    created_at: datetime
    # `str(id)`, written once: every message a chat stores names its model config, and every
    # answer with a chat shows it (a UUID's text is Python code, ~0.6 µs).
    id_text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id_text", str(self.id))


class ModelCatalog:
    """The organization's model configs; one is the default. The model routes change them."""

    def __init__(self, organization_id: UUID) -> None:
        anthropic = Provider(uuid5(_NAMESPACE, "provider:anthropic"), "anthropic", "Anthropic")
        openai = Provider(uuid5(_NAMESPACE, "provider:openai"), "openai", "OpenAI")
        self.organization_id = organization_id
        self.providers = (anthropic, openai)
        self._retired: tuple[ChatModelConfig, ...] = ()  # deleted configs, for the chats that ran them
        self._models: tuple[ChatModelConfig, ...] = (
            self._model(anthropic, "claude-sonnet-4-5", "Claude Sonnet 4.5", 200_000, default=True),
            self._model(openai, "gpt-5", "GPT-5", 400_000, default=False),
        )
        # `named`'s answers, asked for every chat a list shows; forgotten when the configs change.
        self._named: dict[tuple[str, str], ChatModelConfig] = {}

    @property
    def models(self) -> tuple[ChatModelConfig, ...]:
        """The enabled configs, in the order they were added."""
        return self._models

    @models.setter
    def models(self, models: tuple[ChatModelConfig, ...]) -> None:
        self._models = models
        self._named.clear()

    def _model(
        self, provider: Provider, model: str, name: str, limit: int, *, default: bool
    ) -> ChatModelConfig:
        return ChatModelConfig(
            id=uuid5(_NAMESPACE, f"model:{provider.type}/{model}"),
            organization_id=self.organization_id,
            provider=provider,
            model=model,
            display_name=name,
            is_default=default,
            context_limit=limit,
            compression_threshold=70,
            created_at=_CREATED,
        )

    @property
    def default(self) -> ChatModelConfig:
        """The model a chat runs when it names none; with none left, the last one deleted."""
        every = (*self.models, *reversed(self._retired))
        return next((m for m in every if m.is_default), every[0])

    @property
    def has_models(self) -> bool:
        """Whether any model is left (a new chat needs one)."""
        return bool(self.models)

    def get(self, model_config_id: UUID) -> ChatModelConfig | None:
        """The config of this id, or None."""
        return next((m for m in self.models if m.id == model_config_id), None)

    def add(self, config: ChatModelConfig) -> None:
        """A new config; a default one takes the default from the others."""
        others = tuple(replace(m, is_default=False) if config.is_default else m for m in self.models)
        self.models = (*others, config)

    def replace(self, config: ChatModelConfig) -> None:
        """A changed config, in its place; a default one takes the default from the others."""
        self.models = tuple(
            config if m.id == config.id else replace(m, is_default=False) if config.is_default else m
            for m in self.models
        )

    def remove(self, model_config_id: UUID) -> None:
        """A config gone (chats that ran it keep its name); the first left may become the default."""
        self._retired += tuple(m for m in self.models if m.id == model_config_id)
        left = tuple(m for m in self.models if m.id != model_config_id)
        if left and not any(m.is_default for m in left):
            left = (replace(left[0], is_default=True), *left[1:])
        self.models = left

    def provider(self, provider_id: UUID) -> Provider | None:
        """The provider of this id, or None."""
        return next((p for p in self.providers if p.id == provider_id), None)

    def named(self, provider: str, model: str) -> ChatModelConfig:
        """The config a stored chat runs (chats store the provider and model names)."""
        key = (provider, model)
        found = self._named.get(key)
        if found is None:
            every = (*self.models, *self._retired)
            found = next((m for m in every if m.provider.type == provider and m.model == model), None)
            found = self._named[key] = found or self.default
        return found

    def owns(self, organization: str) -> bool:
        """Whether `{organization}` (a name or an id) is this catalog's organization."""
        return organization in (ORGANIZATION_NAME, str(self.organization_id))
