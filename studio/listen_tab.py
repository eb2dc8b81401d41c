"""Listen tab: blind listening tests of two or more systems. Organisers plan, create, watch, close
and export tests here; participants open ``?listen=<test id>`` (or an ``app.py --listen-only TEST_ID``
launch) and see only the test (``listen_participant``). Everything is done by ``pipelines.listen``;
this module only wires it to widgets."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr

from pipelines.common import StudioError, from_dict
from pipelines.generate import STYLES
from pipelines.listen import (DEGRADATIONS, ListenTestConfig, breakdown_table, chart_sets, check_size,
                              create_test, export_csv, list_tests, load_charts, overall_table, pairwise_table,
                              paragraph, participant_rows, plan_test, plan_text, ranking_table, results,
                              screening_table, set_status)

from .common import published_models, ui_errors
from .listen_participant import api, build_participant_page, participant_view, show
from .settings import StudioSettings

__all__ = ["build", "build_participant_page"]
RESULTS_EVERY_S = 10.0
HIDE_TAB_ROW_CSS = ".tab-container, [role='tablist'] {display: none !important;}"
WHO = ["Everyone", "Without flagged participants"]


# ---- organiser tab ----------------------------------------------------------------------------
def build(settings: StudioSettings, tabs: gr.Tabs | None = None) -> None:
    """The Listen tab; ``?listen=<test id>`` turns the page into that test's participant page (and
    selects this tab in ``tabs``, the page's ``gr.Tabs``, when given)."""
    with gr.Tab("Listen", id="listen"):
        with gr.Column() as organiser:
            _organiser(settings)
        with gr.Column(visible=False) as participant_col:
            # gradio 6.31 ignores visibility updates of gr.Tab, so a participant's page hides the
            # tab row with a style that exists only while this column is shown
            gr.HTML(f"<style>{HIDE_TAB_ROW_CSS}</style>", padding=False)
            view = participant_view(settings)
        api(settings)

    def route(code: str, request: gr.Request) -> tuple:
        test_id = (request.query_params.get("listen") or "").strip() if request else ""
        if not test_id:
            return (gr.skip(),) * (3 + len(view.outputs) + (1 if tabs else 0))
        select = [gr.Tabs(selected="listen")] if tabs else []
        return (gr.Column(visible=False), gr.Column(visible=True), *select, test_id, *show(test_id, code))

    view.on_page_load(ui_errors("Check the test link")(route),
                      [organiser, participant_col, *([tabs] if tabs else []), view.test_id, *view.outputs])


def _organiser(settings: StudioSettings) -> None:
    """Plan and create a test, watch its results live, close it, export CSV (admin password when set)."""
    gr.Markdown("Blind listening tests: two or more systems play the same charts with the same seeds, "
                "rendered alike (soundfont, length, -20 LUFS); musicians pick A, B or no preference for "
                "every pair of systems, after playing both clips. Hidden repeated pairs and catch trials "
                "screen the raters.")
    password = gr.Textbox(label="Admin password", type="password", visible=bool(settings.admin_password))
    form, create, created, plan = _create_form(settings)
    with gr.Row():
        pick = gr.Dropdown([], label="Test", allow_custom_value=False, scale=3)
        who = gr.Radio(WHO, value=WHO[0], label="Figures of", scale=2)
        refresh = gr.Button("Refresh list", scale=1)
    link = gr.Markdown()
    summary = gr.Markdown(elem_id="listen-summary")
    tables = [gr.Dataframe(label=label, interactive=False, elem_id=f"listen-{key}") for key, label in (
        ("ranking", "Ranking (Bradley-Terry, three or more systems)"), ("pairwise", "Per pair of systems"),
        ("overall", "Preference per system (two systems)"), ("screening", "Rater screening (hidden checks)"),
        ("per-chart", "Per chart (two systems)"), ("per-person", "Per participant"),
        ("per-level", "Per experience level (two systems)"))]
    with gr.Row():
        close = gr.Button("Close test (no more votes)")
        reopen = gr.Button("Reopen test")
        export = gr.Button("Export votes and clips (CSV)")
    files = gr.File(label="CSV files and codebook", file_count="multiple", interactive=False)
    timer = gr.Timer(RESULTS_EVERY_S)
    shown = [link, summary, *tables]
    buttons = {"create": create, "refresh": refresh, "close": close, "reopen": reopen, "export": export}
    _wire_organiser(settings, password, form, created, plan, pick, who, buttons, shown, files, timer)


def _create_form(settings: StudioSettings) -> tuple[list, gr.Button, gr.Markdown, gr.Markdown]:
    """The new-test form: its inputs in ListenTestConfig order (charts file after the chart set). A
    guarded page lists the published models (a run's checkpoint is typed as runs/<run>/<checkpoint>)."""
    systems = published_models(settings)
    with gr.Accordion("New test", open=True):
        with gr.Row():
            name = gr.Textbox(label="Test name", value="listening test", max_length=80)
            values = [value for _, value in systems]
            system_1 = gr.Dropdown(systems, value="default" if "default" in values else values[0],
                                   allow_custom_value=True, label="System 1 (model, adapter or checkpoint)")
            system_2 = gr.Dropdown(systems, value="rules", allow_custom_value=True, label="System 2")
            more = gr.Dropdown(systems, value=[], multiselect=True, allow_custom_value=True,
                               label="More systems (a round robin of every pair; model@style for "
                                     "another style)")
        with gr.Row():
            style = gr.Dropdown(list(STYLES), value=STYLES[0], allow_custom_value=True, label="Style")
            style_2 = gr.Dropdown([("same as system 1", ""), *[(s, s) for s in STYLES]], value="",
                                  label="Style of system 2")
            charts = gr.Dropdown(chart_sets(), value="turnarounds", label="Chart set")
            chart_file = gr.File(label="Or your own charts (.txt: 'Name: | Cmaj7 | Am7 |' a line, or .yaml)",
                                 file_types=[".txt", ".yaml", ".yml"], type="filepath", height=110)
        with gr.Row():
            seeds = gr.Slider(1, 16, value=2, step=1, label="Seeds per chart (pairs per chart)")
            bars = gr.Slider(1, 32, value=8, step=1, label="Bars per clip")
            tempo = gr.Slider(40, 240, value=90, step=1, label="Tempo (bpm)")
            seed = gr.Number(value=1, precision=0, minimum=0, maximum=2**32 - 1, label="First seed")
        with gr.Row():
            repeats = gr.Slider(0, 10, value=2, step=1, label="Repeated pairs (hidden, sides swapped)")
            catches = gr.Slider(0, 10, value=2, step=1,
                                label="Catch trials (hidden, a clip vs a degraded copy)")
            catch_kind = gr.Dropdown(list(DEGRADATIONS), value=DEGRADATIONS[0], label="Degraded copy")
            min_play = gr.Number(value=0, minimum=0, maximum=120, label="Seconds of each clip before a vote "
                                 "(0 = to the end)")
        plan = gr.Markdown(elem_id="listen-plan")
        create = gr.Button("Create test (renders every clip)", variant="primary")
        created = gr.Markdown()
    form = [name, system_1, system_2, style, style_2, charts, chart_file, seeds, bars, tempo, seed, more,
            repeats, catches, catch_kind, min_play]
    return form, create, created, plan


def _config(values: tuple) -> ListenTestConfig:
    """The form's values (in ``_create_form`` order) as a checked ListenTestConfig."""
    (test_name, first, second, style_1, second_style, chart_set, own_charts, seeds_per_chart, bars_per_clip,
     tempo_bpm, first_seed, more, repeats, catches, catch_kind, min_play_s) = values
    if not own_charts and chart_set not in chart_sets():  # paths never come from the browser
        raise StudioError(f"chart set must be one of {', '.join(chart_sets())} (got {chart_set!r})")
    form = {"name": test_name, "system_1": first, "system_2": second, "style": style_1,
            "style_2": second_style or "", "charts": own_charts or chart_set,
            "seeds_per_chart": seeds_per_chart, "bars": bars_per_clip, "tempo_bpm": tempo_bpm,
            "seed": first_seed, "more_systems": list(more or []),
            "repeats": repeats, "catch_trials": catches, "catch_kind": catch_kind, "min_play_s": min_play_s}
    return from_dict(ListenTestConfig, {k: v for k, v in form.items() if v is not None}, "the form")


def _tables(figures: dict, who: str) -> list[gr.Dataframe]:
    """The results tables of everyone's votes or of the unflagged participants' votes; a table that
    does not apply to this many systems is hidden."""
    block = figures["screened"] if who == WHO[1] else figures["all"]
    two = len(figures["systems"]) == 2
    made = [ranking_table(block) if not two else None, pairwise_table(block),
            overall_table({**figures, **block}) if two else None, screening_table(figures),
            breakdown_table(block["per_chart"], "chart", figures["systems"]) if two else None,
            breakdown_table(participant_rows(figures), "participant", figures["systems"]) if two else
            (["participant", "votes", "ties"], [[r["participant"], r["votes"], r["ties"]]
                                                for r in participant_rows(figures)]),
            breakdown_table(block["per_experience"], "experience", figures["systems"]) if two else None]
    return [gr.Dataframe(visible=False) if table is None else
            gr.Dataframe(value={"headers": table[0], "data": table[1]}, visible=True) for table in made]


def _wire_organiser(settings: StudioSettings, password: gr.Textbox, form: list, created: gr.Markdown,
                    plan: gr.Markdown, pick: gr.Dropdown, who: gr.Radio, buttons: dict, shown: list,
                    files: gr.File, timer: gr.Timer) -> None:
    """Connect the organiser's buttons to pipelines.listen; every action checks the admin password."""

    def admin(given: str) -> None:
        settings.require_admin(given)  # one sentence, and a growing wait for a client that keeps guessing

    def on_plan(*values) -> str:
        try:  # the plan follows the form as it is typed: a half-filled form only says what is wrong
            cfg = _config(values)
            charts = load_charts(cfg.charts)
            check_size(charts, cfg)
        except StudioError as exc:
            return f"Not a test yet: {exc}."
        return plan_text(plan_test(cfg, len(charts)))

    @ui_errors("Fix the field named above and create again")
    def on_create(pw: str, *values, progress_bar=gr.Progress()) -> tuple:
        admin(pw)
        made = create_test(_config(values), progress=lambda f, m: progress_bar(f, desc=m))
        return (f"Created **{made['test_id']}**: {made['pairs']} pairs of {' vs '.join(made['systems'])} "
                f"and {made['hidden_checks']} hidden checks.", _tests(settings, pw, made["test_id"]))

    @ui_errors("Enter the admin password, then pick a test")
    def on_show(pw: str, test_id: str | None, group: str, request: gr.Request) -> tuple:
        if not test_id:
            return (gr.skip(),) * len(shown)
        admin(pw)
        figures = results(test_id)
        page = (request.headers.get("referer") or str(request.base_url)).split("?")[0] if request else ""
        url = f"{page}?listen={test_id}"
        link_text = (f"Participant link: [{url}]({url})  \nOr serve it alone: "
                     f"`python -m pipelines.listen serve {test_id} --host 0.0.0.0`")
        return (link_text, paragraph(figures), *_tables(figures, group))

    @ui_errors("Enter the admin password")
    def on_status(pw: str, test_id: str | None, group: str, status: str, request: gr.Request) -> tuple:
        admin(pw)
        if not test_id:
            raise StudioError("no test is picked")
        set_status(test_id, status)
        return on_show(pw, test_id, group, request)

    def on_tick(pw: str, test_id: str | None, group: str, request: gr.Request) -> tuple:
        if not test_id or settings.refused_lately(request):  # a wrong password counts once, not every tick
            return (gr.skip(),) * len(shown)
        try:  # a live refresh stays quiet: errors show when the organiser acts
            return on_show.__wrapped__(pw, test_id, group, request)
        except StudioError:
            return (gr.skip(),) * len(shown)

    def on_close(pw: str, test_id: str | None, group: str, request: gr.Request) -> tuple:
        return on_status(pw, test_id, group, "closed", request)

    def on_reopen(pw: str, test_id: str | None, group: str, request: gr.Request) -> tuple:
        return on_status(pw, test_id, group, "open", request)

    @ui_errors("Enter the admin password and pick a test")
    def on_export(pw: str, test_id: str | None) -> list[str]:
        admin(pw)
        if not test_id:
            raise StudioError("no test is picked")
        # the export stays outside every served folder; this private temp copy is what gradio
        # copies into its own cache for the download (under a folder named by the content's hash)
        copies = Path(tempfile.mkdtemp(prefix="listen-export-"))
        return [str(shutil.copy2(path, copies / Path(path).name)) for path in export_csv(test_id).values()]

    private = dict(api_visibility="private")
    viewing = [password, pick, who]
    # on load and on every change of the form (cheap)
    gr.on(None, on_plan, form, [plan], show_progress="hidden", queue=False, **private)
    buttons["create"].click(on_create, [password, *form], [created, pick], **private)
    buttons["refresh"].click(ui_errors("Enter the admin password")(lambda pw: _tests(settings, pw)),
                             [password], [pick], **private)
    pick.change(on_show, viewing, shown, **private)
    who.change(on_show, viewing, shown, **private)
    timer.tick(on_tick, viewing, shown, show_progress="hidden", **private)
    buttons["close"].click(on_close, viewing, shown, **private)
    buttons["reopen"].click(on_reopen, viewing, shown, **private)
    buttons["export"].click(on_export, [password, pick], [files], **private)
    if not settings.admin_password:  # with a password the list waits for it
        gr.on(None, lambda: _tests(settings, None), None, [pick], **private)  # no triggers, no inputs: on load


def _tests(settings: StudioSettings, password: str | None, selected: str | None = None) -> gr.Dropdown:
    settings.require_admin(password)
    tests = list_tests()
    choices = [(f"{t['name']} ({t['id']}, {t['status']}, {t['votes']} votes)", t["id"]) for t in tests]
    return gr.Dropdown(choices=choices, value=selected or (tests[0]["id"] if tests else None))
