"""A user's contact methods as channels: the address goes where the channel type sends, the rest of
the channel's configuration comes with the contact method."""

from __future__ import annotations

from typing import Any

from alerting_server.model import Channel, ChannelType, ContactMethod, User

# The channel types a person is reached by.
CONTACT_TYPES = (ChannelType.EMAIL, ChannelType.SLACK, ChannelType.PAGERDUTY, ChannelType.WEBHOOK)


def address_field(type: ChannelType, address: str) -> str:
    """The channel config key an address fills: a Slack address is a webhook URL or a member id."""
    match type:
        case ChannelType.EMAIL:
            return "to"
        case ChannelType.SLACK:
            return "webhook_url" if address.startswith(("https://", "http://")) else "channel"
        case ChannelType.PAGERDUTY:
            return "routing_key"
        case ChannelType.WEBHOOK:
            return "url"
    raise ValueError(f"{type.value} is no contact method type")


def channel_config(method: ContactMethod) -> dict[str, Any]:
    config = {k: v for k, v in method.config.items()}
    key = address_field(method.type, method.address)
    config[key] = [method.address] if method.type is ChannelType.EMAIL else method.address
    return config


def contact_method(channel: Channel) -> ContactMethod:
    """The contact method a user's channel delivers to."""
    config = dict(channel.config)
    if channel.type is ChannelType.SLACK and "channel" in config:
        address = config.pop("channel")
    else:
        value = config.pop(address_field(channel.type, ""), "")
        address = value[0] if isinstance(value, list) and value else value
    return ContactMethod(channel.type, str(address), config, channel.id)


def channel_names(user: User) -> list[str]:
    """The names of the user's channels: `ana-email`, then `ana-email-2` for a second e-mail address."""
    seen: dict[ChannelType, int] = {}
    names = []
    for method in user.contact_methods:
        seen[method.type] = seen.get(method.type, 0) + 1
        n = seen[method.type]
        names.append(f"{user.name}-{method.type.value}" + (f"-{n}" if n > 1 else ""))
    return names


def channels(user: User) -> list[Channel]:
    """The user's channels, unsaved: ids of the contact methods that name theirs, owned by the user."""
    return [
        Channel(
            name=name,
            type=method.type,
            config=channel_config(method),
            id=method.channel_id,
            owner=user.id,
        )
        for name, method in zip(channel_names(user), user.contact_methods, strict=True)
    ]
