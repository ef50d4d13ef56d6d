"""The context builder: what reaches the model, in which order, within which budget."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from traitlets import TraitError

from jupyter_revive.contract import code_sha
from jupyter_revive.prompts import ReviveContextBuilder

from .notebooks import make_notebook, variables


def user_text(ctx) -> str:
    assert len(ctx.messages) == 1 and ctx.messages[0]["role"] == "user"
    return ctx.messages[0]["content"]


def test_context_holds_variables_cells_error_then_prompt_in_that_order():
    nb = make_notebook(
        ["import pandas as pd\ndf = pd.read_csv('sales.csv')", "df.groupby('region').sum()"],
        counts=[1, 2],
        outputs=[
            [],
            [{"output_type": "error", "ename": "KeyError", "evalue": "'region'", "traceback": []}],
        ],
        prompt_at=2,
    )
    summary = variables({"name": "df", "type": "DataFrame", "shape": [10, 2], "repr": "..."})
    ctx = ReviveContextBuilder().build(
        "plot sales per month", nb, cell_id="prompt", variables=summary
    )
    text = user_text(ctx)
    positions = [
        text.index("- df: DataFrame"),
        text.index("df = pd.read_csv('sales.csv')"),
        text.index("raised KeyError: 'region'"),
        text.index("plot sales per month"),
    ]
    assert positions == sorted(positions)
    assert "exactly one ```python fenced code block" in ctx.system


def test_dataframe_is_described_by_shape_columns_and_dtypes():
    summary = variables(
        {
            "name": "df",
            "type": "pandas.DataFrame",
            "shape": [1000, 3],
            "columns": [
                {"name": "price", "dtype": "float64"},
                {"name": "region", "dtype": "object"},
                {"name": "when", "dtype": "datetime64[ns]"},
            ],
            "repr": "   price region\n0  1.0  north",
        }
    )
    text = user_text(ReviveContextBuilder().build("x", make_notebook([]), variables=summary))
    line = next(line for line in text.splitlines() if line.startswith("- df:"))
    assert "shape (1000, 3)" in line
    assert "price float64, region object, when datetime64[ns]" in line
    assert "\n" not in line  # multi-line reprs are folded into the variable's line


def test_a_1gb_frame_is_described_by_its_summary_within_the_per_variable_budget():
    huge = {
        "name": "big",
        "type": "pandas.DataFrame",
        "shape": [50_000_000, 2_000],
        "columns": [{"name": f"col_{i}", "dtype": "float64"} for i in range(2_000)],
        "repr": "x" * 5_000_000,  # a tracker should not send this, but it must not hurt
    }
    builder = ReviveContextBuilder(variable_chars=300)
    ctx = builder.build("x", make_notebook([]), variables=variables(huge))
    line = next(line for line in user_text(ctx).splitlines() if line.startswith("- big:"))
    assert len(line) <= 300
    assert "shape (50000000, 2000)" in line
    assert "more)" in line  # the column list says how many were left out


def test_many_variables_fit_the_total_budget_and_say_how_many_were_left_out():
    many = [{"name": f"v{i}", "type": "int", "repr": str(i)} for i in range(1_000)]
    builder = ReviveContextBuilder(variables_chars=2_000)
    ctx = builder.build("x", make_notebook([]), variables=variables(*many))
    section = user_text(ctx).split("# Earlier cells")[0]
    assert len(section) < 2_000 + 200
    assert 0 < len(ctx.variables_shown) < 1_000
    assert f"{1_000 - len(ctx.variables_shown)} variables left out" in section


def test_variables_the_prompt_names_come_first():
    many = [{"name": f"v{i}", "type": "int", "repr": str(i)} for i in range(500)]
    many.append({"name": "predictions", "type": "ndarray", "shape": [100]})
    ctx = ReviveContextBuilder(variables_chars=600).build(
        "plot predictions against actual values", make_notebook([]), variables=variables(*many)
    )
    assert ctx.variables_shown[0] == "predictions"


def test_tracker_truncation_is_reported():
    summary = variables({"name": "a", "type": "int"}, total=5_000, truncated=True)
    text = user_text(ReviveContextBuilder().build("x", make_notebook([]), variables=summary))
    assert "the kernel holds 5000 variables; the tracker sent 1" in text


def test_missing_variables_summary_is_said_not_invented():
    text = user_text(ReviveContextBuilder().build("x", make_notebook([]), variables=None))
    assert "could not read the kernel's variables" in text


def test_empty_kernel_says_so():
    text = user_text(ReviveContextBuilder().build("x", make_notebook([]), variables=variables()))
    assert "(no user variables)" in text


# -- secrets ------------------------------------------------------------------------------------

SECRET = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "OPENAI_API_KEY",
        "github_token",
        "db_password",
        "client_secret",
        "aws_credentials",
        "auth_header",
    ],
)
def test_secret_named_variables_are_never_described(name):
    summary = variables(
        {"name": name, "type": "str", "repr": "'hunter2-not-key-shaped'"},
        {"name": "author", "type": "str", "repr": "'Ada'"},
    )
    text = user_text(ReviveContextBuilder().build("x", make_notebook([]), variables=summary))
    assert name not in text
    assert "hunter2" not in text
    assert "- author: str" in text  # "auth" inside "author" is not a secret
    assert "1 variable with secret-looking names not described" in text


def test_key_shaped_strings_are_redacted_from_code_outputs_reprs_errors_and_prompt():
    nb = make_notebook(
        [f"client = Anthropic(api_key='{SECRET}')", f"print('{SECRET}')"],
        counts=[1, 2],
        outputs=[
            [
                {
                    "output_type": "error",
                    "ename": "AuthError",
                    "evalue": f"bad key {SECRET}",
                    "traceback": [f"key={SECRET}"],
                }
            ],
            [{"output_type": "stream", "name": "stdout", "text": f"{SECRET}\n"}],
        ],
    )
    summary = variables({"name": "config", "type": "dict", "repr": f"{{'k': '{SECRET}'}}"})
    ctx = ReviveContextBuilder().build(
        f"why does {SECRET} fail? look at @config",
        nb,
        variables=summary,
        details={"config": {"repr": SECRET, "token": "abc"}},
    )
    text = user_text(ctx) + ctx.system
    assert SECRET not in text
    assert "sk-ant-" not in text
    assert "<redacted>" in text


def test_secret_mentions_are_not_extracted_nor_detailed():
    ctx = ReviveContextBuilder().build(
        "use @api_key and @df",
        make_notebook([]),
        variables=variables(),
        details={"api_key": "should never appear", "df": "frame detail"},
    )
    assert ctx.mentions == ["df"]
    assert "should never appear" not in user_text(ctx)
    assert "frame detail" in user_text(ctx)


# -- @name details ------------------------------------------------------------------------------


def test_mention_details_are_included_and_bounded():
    detail = {"name": "df", "head": "a b\n" * 5_000, "describe": {"a": {"mean": 1.5}}}
    ctx = ReviveContextBuilder(detail_chars=1_000).build(
        "plot @df",
        make_notebook([]),
        variables=variables({"name": "df", "type": "DataFrame"}),
        details={"df": detail},
    )
    text = user_text(ctx)
    section = text.split("# Details of the variables mentioned with @")[1].split("# Request")[0]
    assert "@df:" in section and "describe" in section
    assert len(section) < 1_100


def test_a_mention_of_a_name_the_kernel_lacks_says_so():
    ctx = ReviveContextBuilder().build(
        "plot @predictions", make_notebook([]), variables=variables({"name": "df", "type": "int"})
    )
    assert "@predictions:\n(not defined in the live kernel)" in user_text(ctx)


# -- cells: order -------------------------------------------------------------------------------


def test_history_gives_the_order_and_the_latest_run_of_each_cell():
    sources = ["a = 1", "b = a + 1", "c = b * 2"]
    nb = make_notebook(
        sources,
        counts=[3, 2, 1],  # contradicts the history on purpose: history wins
        history=[
            ["c2", code_sha(sources[2])],
            ["c0", code_sha(sources[0])],
            ["c2", code_sha(sources[2])],
            ["c1", code_sha(sources[1])],
            ["gone", "0000000000000000"],  # a deleted cell
        ],
    )
    ctx = ReviveContextBuilder().build("x", nb)
    text = user_text(ctx)
    assert ctx.order == "history"
    assert text.index("a = 1") < text.index("c = b * 2") < text.index("b = a + 1")
    assert text.count("c = b * 2") == 1


def test_cells_edited_since_they_ran_are_flagged():
    nb = make_notebook(["x = 2"], history=[["c0", code_sha("x = 1")]])
    assert "edited since it ran" in user_text(ReviveContextBuilder().build("x", nb))


def test_execution_count_order_without_history():
    nb = make_notebook(["first_in_doc = 1", "second_in_doc = 2"], counts=[7, 3])
    ctx = ReviveContextBuilder().build("x", nb)
    text = user_text(ctx)
    assert ctx.order == "execution_count"
    assert text.index("second_in_doc") < text.index("first_in_doc")
    assert "# In[3]" in text


def test_document_order_above_the_prompt_when_nothing_ran():
    nb = make_notebook(["above = 1", "below = 2"], prompt_at=1)
    ctx = ReviveContextBuilder().build("x", nb, cell_id="prompt")
    text = user_text(ctx)
    assert ctx.order == "document"
    assert "above = 1" in text and "below = 2" not in text


def test_code_generated_earlier_for_this_prompt_is_left_out():
    nb = make_notebook(["data = load()", "old_attempt()"], counts=[1, 2], prompt_at=1)
    nb["cells"][2]["metadata"]["revive"] = {"prompt_id": "prompt"}
    text = user_text(ReviveContextBuilder().build("x", nb, cell_id="prompt"))
    assert "data = load()" in text and "old_attempt" not in text


def test_history_of_an_earlier_kernel_session_is_labelled():
    nb = make_notebook(["predictions = model.predict(X)"], counts=[1], context="ctx-old")
    ctx = ReviveContextBuilder().build("x", nb, variables=variables(context="ctx-new"))
    assert "earlier kernel session" in user_text(ctx)
    same = ReviveContextBuilder().build("x", nb, variables=variables(context="ctx-old"))
    assert "earlier kernel session" not in user_text(same)


# -- cells: budgets -----------------------------------------------------------------------------


def test_huge_outputs_are_truncated_per_cell():
    lines = [f"line {i}\n" for i in range(200_000)]
    nb = make_notebook(
        ["for i in range(200_000): print(f'line {i}')"],
        counts=[1],
        outputs=[[{"output_type": "stream", "name": "stdout", "text": "".join(lines)}]],
    )
    text = user_text(ReviveContextBuilder(output_chars=500).build("x", nb))
    out = text.split("# Out:\n")[1].split("\n\n# Last error")[0]
    assert len(out) <= 500
    assert "characters cut" in out


def test_rich_outputs_are_named_not_inlined():
    png = {"output_type": "display_data", "data": {"image/png": "iVBOR" * 100_000}, "metadata": {}}
    nb = make_notebook(["plot()"], counts=[1], outputs=[[png]])
    text = user_text(ReviveContextBuilder().build("x", nb))
    assert "[image/png output]" in text and "iVBOR" not in text


def test_thousands_of_cells_give_a_bounded_context_dropping_the_oldest():
    # How fast this is, is measured in benchmarks/bench_context.py, not here.
    n = 5_000
    sources = [f"x{i} = x{i - 1} + 1  # " + "pad " * 50 for i in range(n)]
    outputs = [[{"output_type": "stream", "name": "stdout", "text": "out " * 2_000}]] * n
    nb = make_notebook(
        sources,
        counts=list(range(1, n + 1)),
        outputs=outputs,
        history=[[f"c{i}", code_sha(s)] for i, s in enumerate(sources)],
    )
    builder = ReviveContextBuilder(max_chars=20_000)
    ctx = builder.build("continue the series", nb, variables=variables())
    text = user_text(ctx)
    assert len(text) <= 20_000
    assert ctx.cells_omitted > 0 and ctx.cells_shown + ctx.cells_omitted == n
    assert f"[{ctx.cells_omitted} earlier cell runs left out" in text
    assert f"x{n - 1} = x{n - 2} + 1" in text  # the newest survive
    assert "x1 = x0 + 1" not in text  # the oldest go


@pytest.mark.parametrize("max_chars", [2_000, 8_000, 40_000])
def test_total_budget_holds_whatever_the_inputs(max_chars):
    sources = ["y = 1\n" * 2_000] * 50
    many = [{"name": f"v{i}", "type": "str", "repr": "z" * 1_000} for i in range(300)]
    nb = make_notebook(sources, counts=list(range(50)))
    ctx = ReviveContextBuilder(max_chars=max_chars).build(
        "p" * 100_000, nb, variables=variables(*many), details={"v1": "d" * 100_000}
    )
    assert len(user_text(ctx)) <= max_chars
    assert ctx.tokens_estimate > 0


def test_token_budget_tightens_the_character_budget():
    builder = ReviveContextBuilder(max_chars=40_000, max_tokens=1_000, chars_per_token=4.0)
    assert builder.budget == 4_000
    nb = make_notebook(["a = 1\n" * 1_000] * 20, counts=list(range(20)))
    assert len(user_text(builder.build("x", nb))) <= 4_000


def test_negative_budgets_are_refused():
    with pytest.raises(TraitError, match="must be >= 0"):
        ReviveContextBuilder(cell_chars=-1)


# -- templates ----------------------------------------------------------------------------------


def test_templates_can_be_overridden_from_a_directory(tmp_path: Path):
    (tmp_path / "system.txt").write_text("You are terse.")
    (tmp_path / "context.txt").write_text("VARS:\n$variables\nASK: $prompt\n")
    ctx = ReviveContextBuilder(templates_dir=str(tmp_path)).build(
        "hello", make_notebook([]), variables=variables({"name": "n", "type": "int"})
    )
    assert ctx.system == "You are terse."
    assert user_text(ctx) == "VARS:\n- n: int\nASK: hello"


def test_an_override_directory_without_a_template_falls_back_to_the_packaged_one(tmp_path: Path):
    (tmp_path / "system.txt").write_text("custom")
    ctx = ReviveContextBuilder(templates_dir=str(tmp_path)).build("hello", make_notebook([]))
    assert ctx.system == "custom" and "# Request\nhello" in user_text(ctx)


def test_a_missing_template_directory_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="does not exist"):
        ReviveContextBuilder(templates_dir=str(tmp_path / "nope")).build("x", make_notebook([]))


def test_a_real_nbformat_notebook_round_trip_is_accepted(tmp_path: Path):
    nb = make_notebook(["a = 1"], counts=[1], prompt_at=1)
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.from_dict(nb), path)
    nbformat.validate(nbformat.read(path, as_version=4))
    as_json = nbformat.read(path, as_version=4)
    assert "a = 1" in user_text(ReviveContextBuilder().build("x", as_json, cell_id="prompt"))


def test_live_names_include_hidden_secret_names_for_the_missing_name_guard():
    summary = variables({"name": "api_key", "type": "str"}, {"name": "df", "type": "int"})
    ctx = ReviveContextBuilder().build("x", make_notebook([]), variables=summary)
    assert ctx.live_names == {"api_key", "df"}
    assert ctx.live_names_complete
    assert "api_key" not in user_text(ctx)


def test_live_names_of_a_truncated_summary_are_marked_incomplete():
    summary = variables({"name": "a", "type": "int"}, total=900, truncated=True)
    builder = ReviveContextBuilder()
    assert not builder.build("x", make_notebook([]), variables=summary).live_names_complete
    assert not builder.build("x", make_notebook([]), variables=None).live_names_complete
