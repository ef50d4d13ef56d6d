"""The cell analysis as a spec: one snippet per rule."""

from __future__ import annotations

import pytest

from jupyter_revive.dataflow import analyze_cell
from jupyter_revive.dataflow.records import CellAnalysis
from jupyter_revive.dataflow.rules import CWD, NP_RANDOM, PY_RANDOM, SYS_PATH


def a(source: str) -> CellAnalysis:
    return analyze_cell(source)


def function(analysis: CellAnalysis, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in analysis.functions if f.name == name)


# -- assignments -------------------------------------------------------------------------------


def test_assignment_defines_and_reads_free_names() -> None:
    r = a("y = x + 1")
    assert r.defines == {"y"}
    assert r.reads == {"x"}


def test_read_after_own_definition_is_not_free() -> None:
    assert a("x = 1\ny = x").reads == frozenset()


def test_read_before_own_definition_is_free() -> None:
    r = a("y = x\nx = 2")
    assert r.reads == {"x"}
    assert r.defines == {"x", "y"}


def test_tuple_and_starred_unpacking_define_every_name() -> None:
    assert a("a, (b, *c) = 1, (2, 3, 4)").defines == {"a", "b", "c"}


def test_chained_assignment_defines_all_targets() -> None:
    assert a("a = b = 0").defines == {"a", "b"}


def test_annotated_assignment_with_value_defines() -> None:
    assert a("x: int = 5").defines == {"x"}


def test_bare_annotation_defines_nothing() -> None:
    assert a("x: int").defines == frozenset()


def test_augmented_assignment_reads_and_rebinds() -> None:
    r = a("n += 1")
    assert r.defines == {"n"}
    assert r.reads == {"n"}


def test_walrus_defines_in_cell_scope() -> None:
    r = a("if (m := compute()) > 3:\n    pass")
    assert "m" in r.defines


def test_walrus_inside_comprehension_leaks_as_maybe() -> None:
    r = a("[last := v for v in values]")
    assert "last" in r.maybe_defines
    assert "v" not in r.defines | r.maybe_defines


# -- control flow ------------------------------------------------------------------------------


def test_assignment_inside_if_is_only_maybe() -> None:
    r = a("if flag:\n    x = 1")
    assert r.maybe_defines == {"x"}
    assert r.defines == frozenset()


def test_assignment_in_both_branches_is_sure() -> None:
    assert a("if flag:\n    x = 1\nelse:\n    x = 2").defines == {"x"}


def test_for_target_over_unknown_iterable_is_maybe() -> None:
    r = a("for row in rows:\n    total = row")
    assert {"row", "total"} <= r.maybe_defines
    assert r.reads == {"rows"}


def test_for_target_over_nonempty_range_is_sure() -> None:
    assert "i" in a("for i in range(3):\n    pass").defines


def test_name_bound_earlier_in_loop_body_is_not_a_free_read() -> None:
    assert "v" not in a("for r in rows:\n    v = r * 2\n    out = v").reads


def test_with_target_defines() -> None:
    assert "fh" in a("with open(path) as fh:\n    text = fh.read()").defines


def test_except_as_unbinds_the_name() -> None:
    r = a("try:\n    risky()\nexcept ValueError as e:\n    msg = str(e)")
    assert "e" not in r.defines | r.maybe_defines
    assert "e" in r.maybe_deletes
    assert "msg" in r.maybe_defines


def test_match_captures_are_maybe_definitions() -> None:
    r = a("match point:\n    case (x, y):\n        pass")
    assert {"x", "y"} <= r.maybe_defines


# -- imports -----------------------------------------------------------------------------------


def test_import_dotted_binds_top_package() -> None:
    r = a("import os.path")
    assert r.defines == {"os"}
    assert r.imports == {"os"}


def test_import_dotted_as_binds_alias() -> None:
    assert a("import a.b as c").defines == {"c"}


def test_from_import_binds_names_and_aliases() -> None:
    assert a("from m import x, y as z").defines == {"x", "z"}


def test_star_import_is_dynamic() -> None:
    r = a("from pylab import *")
    assert r.dynamic
    assert r.defines == frozenset()


# -- functions and classes ---------------------------------------------------------------------


def test_def_binds_name_and_records_globals_read_by_body() -> None:
    r = a("def f(x):\n    return x * scale + offset")
    assert r.defines == {"f"}
    assert r.reads == frozenset()  # the body runs later, in the cells that call f
    assert function(r, "f").global_reads >= {"scale", "offset"}
    assert "x" not in function(r, "f").global_reads


def test_default_arguments_are_read_at_definition() -> None:
    assert a("def f(x=default):\n    return x").reads == {"default"}


def test_global_write_in_function_is_recorded() -> None:
    info = function(a("def load():\n    global data\n    data = read()"), "load")
    assert info.global_writes == {"data"}


def test_local_assignment_in_function_is_not_a_global_write() -> None:
    info = function(a("def f():\n    data = 1\n    return data"), "f")
    assert info.global_writes == frozenset()
    assert "data" not in info.global_reads


def test_function_mutating_a_global_records_it() -> None:
    assert function(a("def log(x):\n    history.append(x)"), "log").global_mutates == {"history"}


def test_function_mutating_its_parameter_records_it() -> None:
    assert function(a("def add(lst):\n    lst.append(1)"), "add").mutated_params == {"lst"}


def test_nested_function_free_names_are_global_reads() -> None:
    info = function(
        a("def outer():\n    def inner():\n        return k\n    return inner"), "outer"
    )
    assert "k" in info.global_reads


def test_class_methods_globals_are_charged_to_the_class() -> None:
    r = a("class Model:\n    def predict(self, x):\n        return x @ weights")
    assert r.defines == {"Model"}
    assert "weights" in function(r, "Model").global_reads


def test_class_body_reads_happen_at_definition() -> None:
    assert a("class C(Base):\n    size = default_size").reads == {"Base", "default_size"}


def test_lambda_assigned_to_name_is_a_function() -> None:
    r = a("f = lambda x: x + bias")
    assert r.defines == {"f"}
    assert "bias" in function(r, "f").global_reads
    assert r.reads == frozenset()


def test_inline_lambda_reads_count_for_the_cell() -> None:
    assert "k" in a("out = df.apply(lambda r: r * k)").reads


def test_calls_of_plain_names_are_recorded_with_argument_roots() -> None:
    site = a("add(items, n=count)").calls[0]
    assert site.name == "add"
    assert site.args == ("items",)
    assert site.kwargs == (("n", "count"),)


# -- comprehensions ----------------------------------------------------------------------------


def test_comprehension_variable_does_not_leak() -> None:
    r = a("squares = [i * i for i in range(5)]")
    assert r.defines == {"squares"}
    assert "i" not in r.reads


def test_comprehension_reads_outer_names() -> None:
    assert "factor" in a("out = {k: v * factor for k, v in d.items()}").reads


# -- deletion and mutation ---------------------------------------------------------------------


def test_del_name_deletes() -> None:
    r = a("del tmp")
    assert r.deletes == {"tmp"}


def test_del_item_is_a_mutation() -> None:
    r = a("del d['k']")
    assert r.mutates == {"d"}
    assert r.deletes == frozenset()


def test_subscript_assignment_is_a_mutation() -> None:
    r = a("df['b'] = df['a'] * 2")
    assert r.mutates == {"df"}
    assert r.defines == frozenset()
    assert "df" in r.reads


def test_attribute_assignment_is_a_mutation() -> None:
    assert a("model.coef_ = w").mutates == {"model"}


def test_augmented_subscript_assignment_is_a_mutation() -> None:
    assert a("counts['a'] += 1").mutates == {"counts"}


def test_method_call_statement_counts_as_mutation() -> None:
    assert a("x.append(1)").call_mutates == {"x"}


def test_inplace_true_counts_as_mutation() -> None:
    assert a("df.drop(columns=['a'], inplace=True)").call_mutates == {"df"}


def test_fit_inside_an_expression_counts_as_mutation() -> None:
    assert "model" in a("score = model.fit(X, y).score(X, y)").call_mutates


def test_display_method_call_is_not_a_mutation() -> None:
    r = a("df.head()")
    assert r.call_mutates == frozenset()
    assert r.reads == {"df"}


def test_returning_method_in_expression_is_not_a_mutation() -> None:
    assert a("clean = df.dropna()").call_mutates == frozenset()


def test_mutating_an_object_created_in_the_same_cell_is_just_defining_it() -> None:
    r = a("xs = []\nxs.append(1)")
    assert r.defines == {"xs"}
    assert r.call_mutates == frozenset() and r.reads == frozenset()


def test_shuffle_mutates_its_argument() -> None:
    assert "deck" in a("import random\nrandom.shuffle(deck)").mutates


def test_plain_reference_is_an_alias() -> None:
    assert ("b", "a") in a("b = a").aliases


def test_view_is_an_alias() -> None:
    assert ("head", "arr") in a("head = arr[:5]").aliases


def test_call_result_is_not_an_alias() -> None:
    assert a("c = a.copy()").aliases == ()


# -- dynamic definitions -----------------------------------------------------------------------


def test_globals_item_with_constant_key_defines_it() -> None:
    r = a("globals()['x'] = 1")
    assert r.defines == {"x"}
    assert r.dynamic == ()


def test_globals_item_with_computed_key_is_dynamic() -> None:
    assert a("for i in range(3):\n    globals()[f'v{i}'] = i").dynamic


def test_globals_update_is_dynamic() -> None:
    assert a("globals().update(params)").dynamic


def test_exec_of_literal_code_is_analysed() -> None:
    r = a("exec('z = w + 1')")
    assert r.defines == {"z"}
    assert r.reads == {"w"}
    assert r.dynamic == ()


def test_exec_of_computed_code_is_dynamic() -> None:
    assert a("exec(code)").dynamic


def test_setattr_on_main_module_defines() -> None:
    assert "x" in a("import sys\nsetattr(sys.modules[__name__], 'x', 3)").defines


def test_setattr_on_main_module_with_computed_name_is_dynamic() -> None:
    assert a("import sys\nsetattr(sys.modules['__main__'], name, 3)").dynamic


# -- magics ------------------------------------------------------------------------------------


def test_shell_escape_is_a_side_effect() -> None:
    r = a("!ls -l")
    assert [e.kind for e in r.side_effects] == ["shell"]


def test_shell_capture_defines_the_target() -> None:
    r = a("files = !ls")
    assert r.defines == {"files"}
    assert r.side_effects[0].kind == "shell"


def test_pip_magic_is_an_install_side_effect() -> None:
    assert a("%pip install requests").side_effects[0].kind == "install"


def test_time_line_magic_runs_its_code_in_the_cell() -> None:
    r = a("%time y = x ** 2")
    assert r.defines == {"y"}
    assert r.reads == {"x"}


def test_time_cell_magic_runs_its_body_in_the_cell() -> None:
    assert a("%%time\nmodel = fit(data)").defines == {"model"}


def test_timeit_does_not_leak_definitions() -> None:
    r = a("%timeit tmp = sorted(data)")
    assert r.defines == frozenset()
    assert "data" in r.reads


def test_capture_magic_defines_its_output_name() -> None:
    assert a("%%capture out\nprint(1)").defines == {"out"}


def test_bash_cell_magic_is_a_shell_side_effect() -> None:
    assert a("%%bash\necho hi > f.txt").side_effects[0].kind == "shell"


def test_writefile_is_a_file_write() -> None:
    assert a("%%writefile helper.py\nx = 1").side_effects[0].kind == "file-write"


def test_foreign_cell_magic_is_dynamic() -> None:
    assert a("%%R -o result\nresult <- 1").dynamic


def test_run_magic_is_dynamic() -> None:
    assert a("%run setup.py").dynamic


def test_config_magic_defines_nothing() -> None:
    r = a("%matplotlib inline")
    assert r.defines == frozenset() and not r.dynamic and not r.side_effects


def test_help_magic_only_reads() -> None:
    assert a("df?").defines == frozenset()


# -- side effects and randomness ---------------------------------------------------------------


def test_open_for_writing_is_a_file_write() -> None:
    assert a("with open('out.txt', 'w') as f:\n    f.write(s)").side_effects[0].kind == "file-write"


def test_open_for_reading_has_no_side_effect() -> None:
    assert a("with open('in.txt') as f:\n    s = f.read()").side_effects == ()


def test_to_csv_with_path_is_a_file_write() -> None:
    assert a("df.to_csv('out.csv')").side_effects[0].kind == "file-write"


def test_to_csv_without_path_only_returns_text() -> None:
    assert a("text = df.to_csv()").side_effects == ()


def test_savefig_is_a_file_write() -> None:
    assert a("plt.savefig('fig.png')").side_effects[0].kind == "file-write"


def test_requests_call_is_network() -> None:
    assert a("r = requests.get(url)").side_effects[0].kind == "network"


def test_remote_url_read_is_network() -> None:
    assert a("df = pd.read_csv('https://x.org/d.csv')").side_effects[0].kind == "network"


def test_subprocess_is_shell() -> None:
    assert a("subprocess.run(['ls'])").side_effects[0].kind == "shell"


def test_numpy_global_random_reads_and_advances_hidden_state() -> None:
    r = a("x = np.random.rand(3)")
    assert NP_RANDOM in r.state_reads and NP_RANDOM in r.state_changes
    assert r.reads == {"np"}  # hidden state never shows up among variable names


def test_numpy_seed_defines_hidden_state() -> None:
    assert NP_RANDOM in a("np.random.seed(0)").state_sets


def test_stdlib_random_uses_its_own_state() -> None:
    assert PY_RANDOM in a("k = random.randint(0, 9)").state_changes


def test_train_test_split_without_random_state_uses_numpy_state() -> None:
    assert NP_RANDOM in a("a, b = train_test_split(X)").state_reads


def test_train_test_split_with_random_state_is_deterministic() -> None:
    assert NP_RANDOM not in a("a, b = train_test_split(X, random_state=0)").state_reads


def test_unseeded_generator_is_flagged() -> None:
    assert a("rng = np.random.default_rng()").unseeded_rng


def test_seeded_generator_is_not_flagged() -> None:
    assert a("rng = np.random.default_rng(42)").unseeded_rng == ()


def test_generator_draw_advances_the_generator() -> None:
    assert "rng" in a("x = rng.normal(size=3)").call_mutates


# -- robustness --------------------------------------------------------------------------------


def test_unparsable_cell_is_opaque_not_fatal() -> None:
    r = a("def f(:\n  pass")
    assert not r.parsed
    assert r.error and "SyntaxError" in r.error
    assert r.defines == frozenset()


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\x00",
        # not plain Python, so IPython's transformer would see it: its tokenizer raised a
        # SystemError on a null byte in Python 3.13.0
        "if v > 4\x00:\n    y = 1",
        "%time x = 1\x00",
    ],
)
def test_null_byte_is_opaque_not_fatal(source: str) -> None:
    r = a(source)
    assert not r.parsed
    assert r.error == "SyntaxError: source code cannot contain null bytes"


def test_deeply_nested_code_is_opaque_not_fatal() -> None:
    assert a("x = " + "(" * 500 + "1" + ")" * 500).defines in (frozenset(), {"x"})


def test_empty_cell_has_no_effects() -> None:
    assert a("") == CellAnalysis()


def test_mutating_a_new_name_for_an_old_object_mutates_the_old_one() -> None:
    r = a("b = a\nb.append(1)")
    assert r.call_mutates == {"a"}
    assert r.defines == {"b"}


def test_mutating_a_loop_variable_mutates_the_iterable() -> None:
    assert a("for row in rows:\n    row.append(0)").call_mutates == {"rows"}


def test_rebinding_a_name_to_itself_keeps_the_object() -> None:
    assert ("x", "x") in a("y = x\nx = y").aliases


def test_augmented_assignment_keeps_the_object() -> None:
    assert ("xs", "xs") in a("xs += [1]").aliases


def test_augmented_assignment_on_a_new_name_for_an_old_object_mutates_it() -> None:
    assert a("b = a\nb += [1]").mutates == {"a"}


def test_construction_from_a_plain_name_is_recorded() -> None:
    assert a("acct = Account(10)").constructions == (("acct", "Account"),)


def test_cd_magic_changes_hidden_working_directory() -> None:
    assert CWD in a("%cd data").state_changes


def test_relative_file_read_depends_on_working_directory() -> None:
    r = a("df = pd.read_csv('train.csv')")
    assert CWD in r.state_reads
    assert r.reads == {"pd"}


def test_chained_assignment_names_share_one_object() -> None:
    assert ("b", "a") in a("a = b = []").aliases


def test_writing_a_file_does_not_mutate_the_receiver() -> None:
    r = a("df.to_csv('out.csv')")
    assert r.call_mutates == frozenset()
    assert r.side_effects[0].kind == "file-write"


# -- registration and the import system ----------------------------------------------------------


def test_a_decorator_made_by_a_method_call_registers_in_its_receiver() -> None:
    r = a("@pd.api.extensions.register_series_accessor('geo')\nclass Geo:\n    pass")
    assert r.mutates == {"pd"} and r.defines == {"Geo"}
    assert a("@app.route('/')\ndef index():\n    return 'hi'").mutates == {"app"}
    # a plain decorator, or a call of a bare name, names no receiver
    assert a("@functools.cache\ndef f():\n    pass").mutates == frozenset()
    assert a("@dataclass(frozen=True)\nclass C:\n    x: int = 0").mutates == frozenset()


def test_modules_put_in_sys_modules_are_what_later_imports_find() -> None:
    for source in (
        "sys.modules['cfg'] = types.SimpleNamespace(x=1)",
        "del sys.modules['cfg']",
        "sys.modules.pop('cfg')",
        "sys.path[0] = 'src'",
    ):
        assert SYS_PATH in a(source).state_changes, source
    assert SYS_PATH in a("import cfg").state_reads
    assert SYS_PATH not in a("mods = sys.modules['cfg']").state_changes


def test_views_alias_what_they_show() -> None:
    assert a("keys = d.keys()").aliases == (("keys", "d"),)
    assert a("pairs = d.items()").aliases == (("pairs", "d"),)
    assert a("it = iter(xs)").aliases == (("it", "xs"),)
    assert a("n = len(xs)").aliases == ()
    assert a("ks = d.keys(1)").aliases == ()  # not the dict method


def test_files_named_by_literal_relative_paths_are_state_the_cell_reads_or_changes() -> None:
    # C code (parquet through pyarrow, HDF5) opens files no wrapped function sees: a literal
    # path is the same file the tracker records (relative to the notebook's folder).
    written = a("df.to_parquet('out/./p.parquet')\nnp.save(file='a.npy', arr=x)")
    assert written.state_changes == {"<file:out/p.parquet>", "<file:a.npy>"}
    assert "df" not in written.mutates  # writes a file, not the receiver
    copied = a("shutil.copy('a.csv', 'b.csv')")
    assert copied.state_changes == {"<file:a.csv>", "<file:b.csv>"}
    read = a("back = pd.read_parquet('out/p.parquet')\nw = np.load('a.npy')")
    assert read.state_reads == {"<file:out/p.parquet>", "<file:a.npy>", CWD}
    # Not paths: text, URLs, globs, absolute or home paths (recorded otherwise), computed ones.
    for source in (
        "d = json.loads('{\"a\": 1}')",
        "t = pd.read_csv('https://example.org/t.csv')",
        "g = glob.glob('*.csv')",
        "t = pd.read_csv('/data/t.csv')",
        "t = pd.read_csv('~/t.csv')",
        "t = pd.read_csv(path)",
        "t = pd.read_csv('../t.csv')",
    ):
        analysis = a(source)
        assert analysis.state_reads | analysis.state_changes <= {CWD}, source
