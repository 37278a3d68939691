"""The DVC stages of a project as a Mermaid flowchart a person can read (the README holds it).

``dvc dag`` draws every expanded stage: with a stage per motion and per edit it prints over a thousand
columns as ASCII, and ``dvc dag --md`` some 180 Mermaid lines, most of them the same arrow once per
motion. This draws each ``foreach`` group once (``train@* ×8``) and keeps only the
arrows that a longer path does not already imply (every stage depends on ``check``). The graph itself is
DVC's (``Repo.index.graph``), so it stays what ``dvc repro`` runs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import networkx as nx

#: The README block that holds the flowchart (``lamp dag --readme README.md`` rewrites it).
README_BLOCK = "stages"


def stage_flowchart(project: str | Path) -> str:
    """A Mermaid ``flowchart``: a box per stage (a ``foreach`` group once), an arrow from each to the stages using its outputs."""
    groups = stage_groups(project)
    order = {name: i for i, name in enumerate(nx.lexicographical_topological_sort(groups))}
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'    {_node_id(name)}["{_label(name, groups.nodes[name]["members"])}"]' for name in order]
    lines += [f"    {_node_id(a)} --> {_node_id(b)}" for a, b in sorted(groups.edges, key=lambda e: (order[e[0]], order[e[1]]))]
    return "\n".join([*lines, "```"])


def stage_groups(project: str | Path) -> nx.DiGraph:
    """The stages of ``project``'s dvc.yaml (active profile) grouped by name before ``@``, arrows from producer to
    consumer, transitively reduced; each node's ``members`` are its stages' addresses."""
    from dvc.repo import Repo

    with Repo(str(project)) as repo:
        stages = repo.index.graph
        members: dict[str, list[str]] = defaultdict(list)
        for stage in stages.nodes:
            members[_group(stage.name)].append(stage.name)
        # DVC's edges run from a stage to the stages it depends on: reversed, they follow the data; an
        # arrow between two stages of one group would be drawn as a loop, so none is
        edges = {(_group(dep.name), _group(stage.name)) for stage, dep in stages.edges} - {(g, g) for g in members}
    graph = nx.DiGraph(list(edges))
    graph.add_nodes_from((name, {"members": sorted(names)}) for name, names in members.items())
    reduced = nx.transitive_reduction(graph)
    reduced.add_nodes_from(graph.nodes(data=True))  # the reduction keeps the nodes, not their data
    return reduced


def _group(address: str) -> str:
    """``train@rain`` -> ``train@``; a stage without ``@`` is its own group."""
    name, at, _ = address.partition("@")
    return name + at


def _label(group: str, members: list[str]) -> str:
    if len(members) == 1:
        return members[0]
    return f"{group}* ×{len(members)}"


def _node_id(group: str) -> str:
    return re.sub(r"\W", "_", group)
