"""Listen tab: blind A/B listening tests. Organisers create, watch, close and export tests here;
participants open ``?listen=<test id>`` (or an ``app.py --listen-only TEST_ID`` launch) and see only
the test. Everything is done by ``pipelines.listen``; this module only wires it to widgets."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from gradio.context import Context

from pipelines.common.config import from_dict
from pipelines.common.errors import StudioError
from pipelines.generate.api import STYLES
from pipelines.listen import (AlreadyVoted, ListenTestConfig, chart_sets, create_test, export_csv, join,
                              list_systems, list_tests, progress, results, set_status, vote)
from pipelines.listen.report import breakdown_table, overall_table, paragraph, participant_rows
from pipelines.listen.session import EXPERIENCE_LEVELS
from pipelines.listen.store import describe_test

from .common import ui_errors
from .settings import StudioSettings

STORAGE_KEY = "music-studio-listen"   # localStorage key prefix of the participant codes a browser keeps
CHOICES = ["A", "B", "No preference"]
RESULTS_EVERY_S = 10.0
WRONG_PASSWORD = "the admin password is wrong (type the studio's admin password in the field at the top)"
HIDE_TAB_ROW_CSS = ".tab-container, [role='tablist'] {display: none !important;}"


@dataclass
class ParticipantView:
    """The participant page's components; ``outputs`` is what ``_show`` fills, in order."""

    test_id: gr.State
    code_box: gr.Textbox
    outputs: list
    remember: dict      # the keyword arguments of a ``.then`` that keeps the code in the browser


# The browser keeps each test's participant code in localStorage (and in the page URL), so a reload
# or a return visit resumes. gr.BrowserState cannot do it here: inside a tab that is not shown at
# load it is not mounted yet when the load event reads it.
RECALL_JS = """(code) => {
    const query = new URLSearchParams(window.location.search);
    const test = query.get('listen') || '%s';
    return [query.get('code') || localStorage.getItem('%s:' + test) || ''];
}"""
REMEMBER_JS = """(code) => {
    const url = new URL(window.location);
    const test = url.searchParams.get('listen') || '%s';
    if (code) {
        localStorage.setItem('%s:' + test, code);
        url.searchParams.set('code', code);
        window.history.replaceState(null, '', url);
    }
    return [];
}"""


# ---- participant page -------------------------------------------------------------------------
def _participant_view(settings: StudioSettings, fixed_test_id: str = "") -> ParticipantView:
    """Lay out the participant page and wire join, resume and vote."""
    test_id, token, pair_id = gr.State(fixed_test_id), gr.State(""), gr.State(None)
    header = gr.Markdown("Loading the listening test ...")
    with gr.Column(visible=False) as join_col:
        name = gr.Textbox(label="Your name (optional)", max_length=80)
        experience = gr.Dropdown([(level or "(rather not say)", level) for level in EXPERIENCE_LEVELS],
                                 value="", label="Musical experience (optional)")
        start = gr.Button("Start listening", variant="primary")
        with gr.Accordion("Continue with a participant code", open=False):
            code = gr.Textbox(label="Participant code", placeholder="the code shown during your session")
            resume = gr.Button("Continue")
    with gr.Column(visible=False) as pair_col:
        where = gr.Markdown()
        with gr.Row():
            audio_a = gr.Audio(label="A", type="filepath", interactive=False, elem_id="listen-audio-a")
            audio_b = gr.Audio(label="B", type="filepath", interactive=False, elem_id="listen-audio-b")
        choice = gr.Radio(CHOICES, value=None, label="Which one do you prefer?", elem_id="listen-choice")
        comment = gr.Textbox(label="Comment (optional)", lines=2, max_length=2000)
        submit = gr.Button("Submit vote", variant="primary", elem_id="listen-submit")
        code_box = gr.Textbox(label="Your participant code: keep it to continue later on any device",
                              interactive=False, buttons=["copy"])
    with gr.Column(visible=False) as done_col:
        done = gr.Markdown(elem_id="listen-done")
    outputs = [header, join_col, pair_col, done_col, where, audio_a, audio_b, choice, comment, done,
               token, pair_id, code_box]

    def scoped(requested: str) -> str:
        if settings.listen_only and requested != settings.listen_only:
            raise StudioError(f"this server only runs test {settings.listen_only}")
        return requested

    @ui_errors("Join the test again from its link")
    def on_start(test: str, who: str, level: str) -> tuple:
        return _show(test, join(scoped(test), who, level or ""))

    @ui_errors("Check the code, or start afresh")
    def on_resume(test: str, given: str) -> tuple:
        progress(scoped(test), given.strip())  # refuses unknown codes and other tests' codes
        return _show(test, given.strip())

    @ui_errors("Choose A, B or No preference, then submit")
    def on_vote(test: str, code_: str, pair: int, side: str | None, note: str) -> tuple:
        if not side:
            raise StudioError("no choice was made")
        try:
            vote(scoped(test), code_, pair, side, note)
        except AlreadyVoted:
            gr.Warning("That pair already had your vote; here is the next one.")
        return _show(test, code_)

    events = dict(outputs=outputs, api_visibility="private")
    remember = dict(fn=None, inputs=[code_box], outputs=None, js=REMEMBER_JS % (fixed_test_id, STORAGE_KEY),
                    api_visibility="private")
    start.click(on_start, [test_id, name, experience], **events).then(**remember)
    resume.click(on_resume, [test_id, code], **events).then(**remember)
    submit.click(on_vote, [test_id, token, pair_id, choice, comment], **events).then(**remember)
    return ParticipantView(test_id, code_box, outputs, remember)


def _show(test_id: str, token: str) -> tuple:
    """Every participant output for where this participant stands (join, a pair, or done)."""
    info = describe_test(test_id)
    header = (f"## {info['name']}\nA blind listening test: {info['pairs']} pairs of short piano clips. "
              "Play A and B to the end, then pick the one you prefer (or no preference). Take your time; "
              "you can leave and come back.")
    state = None
    if token:
        try:
            state = progress(test_id, token)
        except StudioError:  # a code from an old session or another test: start afresh
            token = ""
    hide, show = gr.Column(visible=False), gr.Column(visible=True)
    keep = (gr.skip(),) * 5  # where, audio A, audio B, choice, comment
    if state is None:
        if info["status"] != "open":
            return (header, hide, hide, show, *keep, "This test is closed. Thank you!", "", None, "")
        return (header, show, hide, hide, *keep, "", "", None, "")
    if state.next_pair is None or state.status != "open":
        thanks = (f"**Thank you!** You voted on {state.voted} of {state.total} pairs."
                  + ("" if state.done else " The test is closed now."))
        return (header, hide, hide, show, *keep, thanks, token, None, token)
    pair = state.next_pair
    where = f"**Pair {pair.number} of {pair.total}** ({state.voted} voted so far)"
    return (header, hide, show, hide, where, str(pair.clip_a), str(pair.clip_b), None, "", "", token,
            pair.pair_id, token)


def build_participant_page(settings: StudioSettings) -> None:
    """The whole page of an ``app.py --listen-only TEST_ID`` launch: the test and nothing else."""
    test_id = settings.listen_only or ""
    describe_test(test_id)  # refuses to launch for an unknown test, with the sentence that says so
    view = _participant_view(settings, test_id)
    Context.root_block.load(ui_errors()(lambda code: _show(test_id, code)), inputs=[view.code_box],
                            outputs=view.outputs, js=RECALL_JS % (test_id, STORAGE_KEY),
                            api_visibility="private").then(**view.remember)
    _api(settings)


# ---- organiser tab ----------------------------------------------------------------------------
def build(settings: StudioSettings) -> None:
    """The Listen tab; ``?listen=<test id>`` turns the page into that test's participant page."""
    tabs = Context.block if isinstance(Context.block, gr.Tabs) else None
    with gr.Tab("Listen", id="listen"):
        with gr.Column() as organiser:
            _organiser(settings)
        with gr.Column(visible=False) as participant_col:
            # gradio 6.31 ignores visibility updates of gr.Tab, so a participant's page hides the
            # tab row with a style that exists only while this column is shown
            gr.HTML(f"<style>{HIDE_TAB_ROW_CSS}</style>", padding=False)
            view = _participant_view(settings)
        _api(settings)

    def route(code: str, request: gr.Request) -> tuple:
        test_id = (request.query_params.get("listen") or "").strip() if request else ""
        if not test_id:
            return (gr.skip(),) * (3 + len(view.outputs) + (1 if tabs else 0))
        select = [gr.Tabs(selected="listen")] if tabs else []
        return (gr.Column(visible=False), gr.Column(visible=True), *select, test_id, *_show(test_id, code))

    Context.root_block.load(ui_errors("Check the test link")(route), inputs=[view.code_box],
                            outputs=[organiser, participant_col, *([tabs] if tabs else []), view.test_id,
                                     *view.outputs],
                            js=RECALL_JS % ("", STORAGE_KEY), api_visibility="private").then(**view.remember)


def _organiser(settings: StudioSettings) -> None:
    """Create a test, watch its results live, close it, export CSV (admin password when configured)."""
    gr.Markdown("Blind A/B listening tests: two systems play the same charts with the same seeds, "
                "rendered alike (soundfont, length, -20 LUFS); musicians pick A, B or no preference.")
    password = gr.Textbox(label="Admin password", type="password", visible=bool(settings.admin_password))
    form, create, created = _create_form()
    with gr.Row():
        pick = gr.Dropdown([], label="Test", allow_custom_value=False, scale=3)
        refresh = gr.Button("Refresh list", scale=1)
    link = gr.Markdown()
    summary = gr.Markdown(elem_id="listen-summary")
    overall = gr.Dataframe(label="Preference per system", interactive=False)
    per_chart = gr.Dataframe(label="Per chart", interactive=False)
    per_person = gr.Dataframe(label="Per participant", interactive=False)
    per_level = gr.Dataframe(label="Per experience level", interactive=False)
    with gr.Row():
        close = gr.Button("Close test (no more votes)")
        reopen = gr.Button("Reopen test")
        export = gr.Button("Export votes and clips (CSV)")
    files = gr.File(label="CSV files", file_count="multiple", interactive=False)
    timer = gr.Timer(RESULTS_EVERY_S)
    shown = [link, summary, overall, per_chart, per_person, per_level]
    _wire_organiser(settings, password, form, create, created, pick, refresh, shown, close, reopen, export,
                    files, timer)


def _create_form() -> tuple[list, gr.Button, gr.Markdown]:
    """The new-test form: its inputs in ListenTestConfig order (charts file after the chart set)."""
    systems = list_systems()
    with gr.Accordion("New test", open=True):
        with gr.Row():
            name = gr.Textbox(label="Test name", value="listening test", max_length=80)
            values = [value for _, value in systems]
            system_1 = gr.Dropdown(systems, value="default" if "default" in values else values[0],
                                   allow_custom_value=True, label="System 1 (model, adapter or checkpoint)")
            system_2 = gr.Dropdown(systems, value="rules", allow_custom_value=True, label="System 2")
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
            seed = gr.Number(value=1, precision=0, minimum=0, label="First seed")
        create = gr.Button("Create test (renders every clip)", variant="primary")
        created = gr.Markdown()
    form = [name, system_1, system_2, style, style_2, charts, chart_file, seeds, bars, tempo, seed]
    return form, create, created


def _wire_organiser(settings: StudioSettings, password: gr.Textbox, form: list, create: gr.Button,
                    created: gr.Markdown, pick: gr.Dropdown, refresh: gr.Button, shown: list,
                    close: gr.Button, reopen: gr.Button, export: gr.Button, files: gr.File,
                    timer: gr.Timer) -> None:
    """Connect the organiser's buttons to pipelines.listen; every action checks the admin password."""

    def admin(given: str) -> None:
        if not settings.check_admin(given):
            raise StudioError(WRONG_PASSWORD)

    @ui_errors("Fix the field named above and create again")
    def on_create(pw: str, test_name: str, first: str, second: str, style_1: str, second_style: str,
                  chart_set: str, own_charts: str | None, seeds_per_chart: float, bars_per_clip: float,
                  tempo_bpm: float, first_seed: float, progress_bar=gr.Progress()) -> tuple:
        admin(pw)
        if not own_charts and chart_set not in chart_sets():  # paths never come from the browser
            raise StudioError(f"chart set must be one of {', '.join(chart_sets())} (got {chart_set!r})")
        form = {"name": test_name, "system_1": first, "system_2": second, "style": style_1,
                "style_2": second_style or "", "charts": own_charts or chart_set,
                "seeds_per_chart": seeds_per_chart, "bars": bars_per_clip, "tempo_bpm": tempo_bpm,
                "seed": first_seed}
        cfg = from_dict(ListenTestConfig, {k: v for k, v in form.items() if v is not None}, "the form")
        made = create_test(cfg, progress=lambda f, m: progress_bar(f, desc=m))
        return (f"Created **{made['test_id']}**: {made['pairs']} pairs of {' vs '.join(made['systems'])}.",
                _tests(settings, pw, made["test_id"]))

    @ui_errors("Enter the admin password, then pick a test")
    def on_show(pw: str, test_id: str | None, request: gr.Request) -> tuple:
        if not test_id:
            return (gr.skip(),) * 6
        admin(pw)
        figures = results(test_id)
        page = (request.headers.get("referer") or str(request.base_url)).split("?")[0] if request else ""
        url = f"{page}?listen={test_id}"
        link_text = (f"Participant link: [{url}]({url})  \nOr serve it alone: "
                     f"`python -m pipelines.listen serve {test_id} --host 0.0.0.0`")
        tables = [overall_table(figures),
                  breakdown_table(figures["per_chart"], "chart", figures["systems"]),
                  breakdown_table(participant_rows(figures), "participant", figures["systems"]),
                  breakdown_table(figures["per_experience"], "experience", figures["systems"])]
        return (link_text, paragraph(figures), *({"headers": h, "data": rows} for h, rows in tables))

    @ui_errors("Enter the admin password")
    def on_status(pw: str, test_id: str | None, status: str, request: gr.Request) -> tuple:
        admin(pw)
        if not test_id:
            raise StudioError("no test is picked")
        set_status(test_id, status)
        return on_show(pw, test_id, request)

    def on_tick(pw: str, test_id: str | None, request: gr.Request) -> tuple:
        try:  # a live refresh stays quiet: errors show when the organiser acts
            return on_show.__wrapped__(pw, test_id, request)
        except StudioError:
            return (gr.skip(),) * 6

    def on_close(pw: str, test_id: str | None, request: gr.Request) -> tuple:
        return on_status(pw, test_id, "closed", request)

    def on_reopen(pw: str, test_id: str | None, request: gr.Request) -> tuple:
        return on_status(pw, test_id, "open", request)

    @ui_errors("Enter the admin password and pick a test")
    def on_export(pw: str, test_id: str | None) -> list[str]:
        admin(pw)
        if not test_id:
            raise StudioError("no test is picked")
        return list(export_csv(test_id).values())

    private = dict(api_visibility="private")
    create.click(on_create, [password, *form], [created, pick], **private)
    refresh.click(ui_errors("Enter the admin password")(lambda pw: _tests(settings, pw)), [password], [pick],
                  **private)
    pick.change(on_show, [password, pick], shown, **private)
    timer.tick(on_tick, [password, pick], shown, show_progress="hidden", **private)
    close.click(on_close, [password, pick], shown, **private)
    reopen.click(on_reopen, [password, pick], shown, **private)
    export.click(on_export, [password, pick], [files], **private)
    if not settings.admin_password:  # with a password the list waits for it
        Context.root_block.load(lambda: _tests(settings, None), None, [pick], **private)


def _tests(settings: StudioSettings, password: str | None, selected: str | None = None) -> gr.Dropdown:
    if not settings.check_admin(password):
        raise StudioError(WRONG_PASSWORD)
    tests = list_tests()
    choices = [(f"{t['name']} ({t['id']}, {t['status']}, {t['votes']} votes)", t["id"]) for t in tests]
    return gr.Dropdown(choices=choices, value=selected or (tests[0]["id"] if tests else None))


# ---- named API endpoints ----------------------------------------------------------------------
def _api(settings: StudioSettings) -> None:
    """listen_join, listen_progress, listen_vote, listen_results for scripts and gradio_client."""

    def scoped(test_id: str) -> str:
        if settings.listen_only and test_id != settings.listen_only:
            raise StudioError(f"this server only runs test {settings.listen_only}")
        return test_id

    def state(test_id: str, token: str) -> dict:
        now = progress(test_id, token)
        return {"test_id": test_id, "token": token, "voted": now.voted, "total": now.total,
                "status": now.status, "next_pair": now.next_pair.pair_id if now.next_pair else None,
                "next_number": now.next_pair.number if now.next_pair else None}

    def listen_join(test_id: str, name: str = "", experience: str = "") -> dict:
        """Join an open test; returns the participant token and the first pair's id."""
        return state(test_id, join(scoped(test_id), name, experience))

    def listen_progress(test_id: str, token: str) -> dict:
        """Where a participant stands: votes so far and the next pair's id (None when done)."""
        return state(scoped(test_id), token)

    def listen_vote(test_id: str, token: str, pair_id: int, choice: str, comment: str = "") -> dict:
        """Record one vote (choice A, B or tie); a second vote on the same pair is refused."""
        recorded = vote(scoped(test_id), token, pair_id, choice, comment)
        return {**state(test_id, token), "vote_id": recorded["vote_id"], "choice": recorded["choice"]}

    def listen_results(test_id: str, admin_password: str = "") -> dict:
        """Every figure of a test (admin password when configured)."""
        if settings.listen_only and not settings.admin_password:
            raise StudioError("a listen-only server shows results only when it has an admin password; "
                              f"run python -m pipelines.listen results {test_id}")
        if not settings.check_admin(admin_password):
            raise StudioError(WRONG_PASSWORD)
        return results(scoped(test_id))

    for fn in (listen_join, listen_progress, listen_vote, listen_results):
        gr.api(ui_errors()(fn), api_name=fn.__name__)
