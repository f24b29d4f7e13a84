"""One app as one environment runs it: its layers merged, the image tag and pull policy set in
its values, and each problem blamed on the layer whose setting wins."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from generator.spec import naming
from generator.spec.files import SpecFile
from generator.spec.merge import NotAMapError, deep_merge, set_path
from generator.spec.model import AppRelease, Chart

# One layer of an app's settings: the file, the path of the app in it, and what it sets there.
Layer = tuple[SpecFile, tuple[str | int, ...], Any]
# Reports one problem at a path of a file (the loader's, which says each problem once).
Fail = Callable[[SpecFile, tuple[str | int, ...], str], None]


def app_layers(
    name: str,
    project_source: SpecFile,
    source: SpecFile,
    app_defs: Mapping[str, Any],
    defaults: Mapping[str, Any],
) -> list[Layer]:
    """The app's definition, its defaults and the environment's overrides, in merge order."""
    layers = [
        app_defs[name],
        (defaults.get("apps") or {}).get(name) or {},
        (source.data.get("apps") or {}).get(name) or {},
    ]
    return list(
        zip(
            (project_source, project_source, source),
            (("apps", name), ("defaults", "apps", name), ("apps", name)),
            layers,
            strict=True,
        )
    )


def merge_layers(layers: Sequence[Layer]) -> dict[str, Any]:
    """The app's settings after every layer."""
    # The base is taken as it is (its null values reach Helm); overrides remove with null.
    merged: dict[str, Any] = deep_merge(layers[0][2], {})
    for _, _, layer in layers[1:]:
        merged = deep_merge(merged, layer)
    return merged


def app_release(
    name: str,
    merged: Mapping[str, Any],
    source: SpecFile,
    origins: Sequence[Layer],
    fail: Fail,
) -> AppRelease | None:
    """The app's release from its merged settings; None when a problem stops it (reported)."""
    fields = merged.get("chart") or {}
    missing = [key for key in ("repository", "name", "version") if not fields.get(key)]
    if missing:
        fail(source, ("apps", name), f"chart.{missing[0]} of app {name!r} was removed by a null")
        return None
    chart = Chart(fields["repository"], fields["name"], fields["version"])
    release_name = merged.get("releaseName") or name
    if len(release_name) > 53:
        # The schema caps releaseName at 53: a longer release name is the app's own name.
        defined_in, defined_at = origins[0][:2]  # the app's definition in the project file
        fail(
            defined_in,
            defined_at,
            f"the release name {release_name!r} is longer than Helm's 53 characters; "
            "set a shorter releaseName",
        )
    values: dict[str, Any] = dict(merged.get("values") or {})
    image = merged.get("image") or {}
    tag = image.get("tag")
    policy = None
    if tag is not None:
        policy = naming.pull_policy(tag, image.get("pullPolicy"))
        tag_path = image.get("tagPath", "image.tag").split(".")
        policy_path = image.get("pullPolicyPath", "image.pullPolicy").split(".")
        shorter = min(len(tag_path), len(policy_path))
        if tag_path[:shorter] == policy_path[:shorter]:
            where = (
                _origin(origins, ("image", "pullPolicyPath"))
                or _origin(origins, ("image", "tagPath"))
                or _origin(origins, ("image",))
            )
            assert where is not None  # the tag is set, so some layer sets image
            fail(
                *where,
                f"the tag goes to values.{'.'.join(tag_path)} and the pull policy to values."
                f"{'.'.join(policy_path)}: give each a place of its own "
                "(image.tagPath, image.pullPolicyPath)",
            )
            return None
        for key, default, value in (
            ("tagPath", "image.tag", tag),
            ("pullPolicyPath", "image.pullPolicy", policy),
        ):
            path = image.get(key, default).split(".")
            if path == ["global"]:
                set_at = _origin(origins, ("image", key))
                assert set_at is not None  # the default paths are not global
                fail(
                    *set_at,
                    f"the {'tag' if key == 'tagPath' else 'pull policy'} would replace "
                    "values.global, the map Helm shares with every subchart; set "
                    f"{key} to a path under it (global.<name>) or to another key",
                )
                return None
            try:
                set_path(values, path, value)
            except NotAMapError as e:
                _path_through_scalar(origins, key, default, path, e.path, fail)
                return None
    global_values = values.pop("global", {})
    if not isinstance(global_values, dict):
        # A layer set it (the tag and the pull policy never replace global: refused above); a
        # null is found only in the app's definition, since a null in a later layer removes.
        base_in, base_at = origins[0][:2]
        fail(
            *(_origin(origins, ("values", "global")) or (base_in, (*base_at, "values", "global"))),
            "global must be a map (Helm shares it with every subchart)",
        )
        return None
    wrapper: dict[str, Any] = {}
    if global_values:
        wrapper["global"] = global_values
    wrapper[chart.name] = values
    return AppRelease(
        name=name,
        release_name=release_name,
        chart=chart,
        image_tag=tag,
        pull_policy=policy,
        values=wrapper,
    )


def _path_through_scalar(
    origins: Sequence[Layer],
    key: str,
    default: str,
    path: list[str],
    blocker: tuple[str, ...],
    fail: Fail,
) -> None:
    """tagPath (or pullPolicyPath) leads through a value that is not a map.

    Said once, where the path is set, with the values line that blocks it; without a path
    set, the default path is blamed on that values line.
    """
    dotted = ".".join(path)
    through = "values." + ".".join(blocker)
    values_at = _origin(origins, ("values", *blocker))
    path_at = _origin(origins, ("image", key))
    # The tag and the pull policy have places of their own: what blocks the path is in values.
    assert values_at is not None
    if path_at is None:
        fail(
            *values_at,
            f"image.{key} is not set, so the {key.removesuffix('Path')} goes to values."
            f"{default}, but {through} is not a map; set image.{key} to where the chart "
            "takes it",
        )
        return
    source, at = values_at
    line, col = source.position(at)
    fail(
        *path_at,
        f"cannot set values.{dotted}: {through} is not a map "
        f"({source.file}:{line}:{col} sets it); point {key} elsewhere or make that a map",
    )


def _origin(
    layers: Sequence[Layer], path: tuple[str | int, ...]
) -> tuple[SpecFile, tuple[str | int, ...]] | None:
    """The layer whose setting at ``path`` wins the merge (the last one that sets it), and where."""
    for source, base, data in reversed(layers):
        node = data
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            return source, (*base, *path)
    return None
