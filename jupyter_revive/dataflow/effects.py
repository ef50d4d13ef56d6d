"""Per-execution effects in history context: static analysis resolved against what ran before.

Walking the history forward, it charges notebook functions' effects to the cells that call them,
follows aliases (`b = a; b.append(1)` changes `a`), ignores method calls on imported modules
(`plt.plot()`), and lets the ledger's observed bindings and in-place changes override static
guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contract import RunRecord
from . import rules
from .analysis import analyze_cell
from .history import Execution, History
from .records import CallSite, CellAnalysis, FunctionInfo, SideEffect

SETTINGS = (rules.ENV_PREFIX, rules.OPTION_PREFIX, rules.PATCH_PREFIX)


@dataclass(frozen=True)
class Effect:
    execution: Execution
    analysis: CellAnalysis
    creates: frozenset[str]  # surely bound: earlier values no longer matter
    removes: frozenset[str]  # surely deleted
    touches: frozenset[str]  # mutated, maybe bound or maybe deleted: earlier value still matters
    maybe_binds: frozenset[str]
    reads: frozenset[str]  # must hold their values as of this point before it runs
    side_effects: tuple[SideEffect, ...]
    dynamic: tuple[str, ...]  # unseen bindings possible (no ledger to tell)
    observed: bool  # bindings come from the ledger

    @property
    def kills(self) -> frozenset[str]:
        return self.creates | self.removes

    @property
    def binds(self) -> frozenset[str]:
        return self.creates | self.maybe_binds


class _Aliases:
    """May-alias groups: names that might refer to the same object."""

    def __init__(self) -> None:
        self.group: dict[str, set[str]] = {}

    def expand(self, names: set[str]) -> set[str]:
        out = set(names)
        for name in names:
            out |= self.group.get(name, set())
        return out

    def rebind(self, name: str) -> None:
        members = self.group.pop(name, None)
        if members is not None:
            members.discard(name)

    def members(self, name: str) -> set[str]:
        """The (live) group of `name`'s current object."""
        return self.group.setdefault(name, {name})

    def join(self, name: str, source: str) -> None:
        self.join_group(name, self.members(source))

    def join_group(self, name: str, members: set[str]) -> None:
        current = self.group.get(name)
        if current is not None and current is not members:
            # joined twice in one cell (`b = c = []; b = a`): statement order is not kept, so
            # merge, which can only over-approximate
            members |= current
            for member in current:
                self.group[member] = members
        members.add(name)
        self.group[name] = members


def _closure(start: set[str], env: dict[str, FunctionInfo]) -> list[FunctionInfo]:
    """The notebook functions reachable from `start` through calls and references."""
    seen: set[str] = set()
    todo = [n for n in start if n in env]
    infos: list[FunctionInfo] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        info = env[name]
        infos.append(info)
        todo += [n for n in (info.calls | info.global_reads) if n in env and n not in seen]
    return infos


def _closures(start: set[str], envs: list[dict[str, FunctionInfo]]) -> list[FunctionInfo]:
    found: dict[int, FunctionInfo] = {}
    for env in envs:
        for info in _closure(start, env):
            found[id(info)] = info
    return list(found.values())


def _param_mutations(site: CallSite, info: FunctionInfo) -> set[str]:
    out: set[str] = set()
    for i, param in enumerate(info.params):
        if param not in info.mutated_params:
            continue
        arg = site.args[i] if i < len(site.args) else dict(site.kwargs).get(param)
        if arg is not None:
            out.add(arg)
    return out


def _observed_state(ledger: RunRecord, written: set[str]) -> tuple[set[str], set[str]]:
    """(reads, changes) of outside state the tracker saw: files, environment, options.

    A file counts as read only when the notebook itself wrote it somewhere in its history;
    other files are inputs the notebook never produced, nothing to replay for. Listing a
    folder reads the files the notebook wrote in it.
    """
    changes = {rules.file_state(p) for p in ledger.files_changed}
    changes |= {rules.env_state(k) for k in ledger.env_vars}
    changes |= {rules.option_state(k) for k in ledger.options}
    changes |= {rules.patch_state(k) for k in ledger.classes}  # `type(df).mean = f`
    if ledger.cwd_changed:
        changes.add(rules.CWD)
    reads = {rules.file_state(p) for p in ledger.files_read if p in written}
    for folder in ledger.files_listed:  # a listing sees which of the notebook's files exist
        reads |= {rules.file_state(p) for p in written if rules.in_folder(p, folder)}
    return reads, changes


def _observed_writes(ledger: RunRecord, seen: list[SideEffect]) -> list[SideEffect]:
    """Files the tracker saw the run change where its source shows no file write (C code, a
    program it ran, a handle opened earlier): a replay changes them again (an append, a row
    inserted into a database)."""
    if not ledger.files_changed or any(e.kind == "file-write" for e in seen):
        return []
    return [SideEffect("file-write", "changes " + rules.shortened(sorted(ledger.files_changed)))]


def resolve(history: History) -> list[Effect]:
    written = {
        path for e in history.executions if e.ledger is not None for path in e.ledger.files_changed
    }
    # Environment variables and options set so far: hidden state every later cell may read.
    settings: set[str] = set()
    env: dict[str, FunctionInfo] = {}
    modules: set[str] = set()
    instance_of: dict[str, str] = {}  # name -> notebook class it was constructed from
    aliases = _Aliases()
    effects: list[Effect] = []
    for execution in history.executions:
        analysis = (
            analyze_cell(execution.source) if execution.source is not None else CellAnalysis()
        )
        local_env = (
            {**env, **{f.name: f for f in analysis.functions}} if analysis.functions else env
        )

        reads = set(analysis.reads)
        mutates = set(analysis.mutates) | (set(analysis.call_mutates) - modules)
        maybe = set(analysis.maybe_defines)
        maybe_deleted = set(analysis.maybe_deletes)
        side_effects = list(analysis.side_effects)
        dynamic = list(analysis.dynamic)

        # A cell may call a function before redefining it: resolve against the definitions
        # from before the cell and from the cell itself, and take both.
        envs = [env, local_env] if local_env is not env else [env]

        # Referencing a notebook function may run it: its globals are read here.
        # Using an instance of a notebook class may run its methods (`ctr.bump()`).
        classes = {instance_of[n] for n in reads | mutates if n in instance_of}
        reads |= classes  # and its class's attributes, which every instance shares
        for info in _closures(classes, envs) if classes else ():
            mutates |= info.global_mutates
            maybe |= info.global_writes
        called = reads | classes | {c.name for c in analysis.calls}
        for info in _closures(called, envs) if env or local_env else ():
            reads |= info.global_reads | info.state_reads
            side_effects += info.side_effects
        for site in analysis.calls:
            scopes = [scope for scope in envs if site.name in scope]
            if not scopes:
                continue  # not a notebook function (a builtin, an imported one)
            for scope in scopes:
                mutates |= _param_mutations(site, scope[site.name])
            for info in _closures({site.name}, envs):
                # `global` writes happen only if the call reaches them: maybe-bindings
                maybe |= info.global_writes
                maybe_deleted |= info.global_deletes
                mutates |= info.global_mutates | info.state_changes
                reads |= info.global_mutates
                if info.dynamic:
                    dynamic.append(f"{info.name}() sets globals dynamically")

        creates = set(analysis.defines)
        removes = set(analysis.deletes)
        ledger = execution.ledger
        observed = ledger is not None and ledger.defined is not None
        if ledger is not None and ledger.defined is not None:
            if ledger.status == "error":
                # It stopped part-way: only what it was seen to bind or delete happened.
                creates = set(ledger.defined)
                removes = set(ledger.deleted)
            else:
                creates |= ledger.defined
                removes = (removes | ledger.deleted) - ledger.defined
            maybe = set()
            maybe_deleted = set()
            dynamic = []
        if not observed and ledger is not None and ledger.status == "error":
            # It stopped part-way and nobody saw where: any binding may not have happened.
            maybe |= creates
            maybe_deleted |= removes
            creates, removes = set(), set()
        if ledger is not None and ledger.mutated is not None:
            # Observed in place: what changed is a mutation whatever the source shows (a bare
            # call advancing a closure, `np.add(..., out=a)`); what was fingerprinted whole and
            # came back equal is not, whatever the static guess (`df.head()` as a statement).
            mutates = (mutates - ledger.unchanged) | ledger.mutated
        reads |= settings
        seen_changes: set[str] = set()
        if ledger is not None:
            seen_reads, seen_changes = _observed_state(ledger, written)
            reads |= seen_reads
            mutates |= seen_changes
            settings |= {n for n in seen_changes if n.startswith(SETTINGS)}
            side_effects += _observed_writes(ledger, side_effects)

        reads |= analysis.state_reads
        mutates |= analysis.state_changes
        creates |= analysis.state_sets
        if ledger is not None and ledger.random:
            # Seen drawing from a global generator, through whatever code (a helper called by
            # another name, a library without `random_state`): it advanced the state the cells
            # before left, unless it seeded the generator outright itself.
            drawn = rules.generator_states(ledger.random)
            mutates |= drawn
            reads |= drawn - analysis.state_sets

        # rebound to its own object (`x = x`, `x += …` on a list): the others sharing it may
        # have changed with it
        kept = {name for name, source in analysis.aliases if name == source}
        mutates |= aliases.expand(kept & creates) - kept
        before = aliases.expand(mutates)
        bound = creates | maybe
        # `b = a; a = []`: b joins the object a had before the cell, not a's new one
        prior = set(analysis.prior_aliases)
        earlier = [
            (name, aliases.members(source))
            for name, source in prior
            if name != source and name in bound
        ]
        for name in creates | removes:
            if (name, name) not in analysis.aliases or name in removes:
                aliases.rebind(name)
        for name, members in earlier:
            aliases.join_group(name, members)
        for name, source in analysis.aliases:
            # an alias of an object made in this cell (`a = b = []`)
            inner = (name, source) not in prior or source in bound
            if name != source and name in bound and inner:
                aliases.join(name, source)
        mutates = before | aliases.expand(mutates)

        # A library changed in place (`pd.DataFrame.mean = f`, in a notebook function too) is
        # hidden state every later cell may read, as an option is: `df.mean()` names neither.
        # The visitors report every attribute chain set; only those from libraries' names count
        # (a class the tracker saw changed, `type(df).mean = f`, is one already).
        libraries = {rules.patch_state(n) for n in modules | (analysis.imports & creates)}
        patched = {n for n in mutates if n.startswith(rules.PATCH_PREFIX)} - seen_changes
        mutates -= patched - libraries
        settings |= patched & libraries

        touches = (mutates | maybe | maybe_deleted) - creates - removes
        effects.append(
            Effect(
                execution=execution,
                analysis=analysis,
                creates=frozenset(creates - removes),
                removes=frozenset(removes),
                touches=frozenset(touches),
                maybe_binds=frozenset(maybe - creates - removes),
                reads=frozenset(reads),
                side_effects=tuple(dict.fromkeys(side_effects)),
                dynamic=tuple(dict.fromkeys(dynamic)),
                observed=observed,
            )
        )

        if local_env is not env:
            env.update(local_env)
        for name in creates | removes:
            if name not in local_env or name in removes:
                env.pop(name, None)
        for info in analysis.functions:
            if info.name in creates or info.name in maybe:
                env[info.name] = info
        for name, source in analysis.aliases:
            # `f = fill`: calling f runs fill, with its effects on globals and arguments
            if name != source and name in creates and name not in env and source in local_env:
                env[name] = local_env[source]
        modules -= creates | removes
        modules |= analysis.imports & creates
        for name in creates | removes:
            instance_of.pop(name, None)
        for name, callee in analysis.constructions:
            if name in creates and callee in env and env[callee].is_class:
                instance_of[name] = callee
    return effects
