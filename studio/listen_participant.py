"""The participant's page of a listening test and the named listening endpoints.

The page reports every play, pause and end of either clip to ``pipelines.listen.record_play``; the
server decides from those events whether a vote may count and says what is missing. The page only
wires widgets; every rule lives in ``pipelines.listen``.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from pipelines.common import StudioError
from pipelines.listen import (AlreadyVoted, DECIDE_S, EXPERIENCE_LEVELS, describe_test, join, listening_state,
                              progress, record_play, results, vote)

from .common import ui_errors
from .settings import StudioSettings

STORAGE_KEY = "music-studio-listen"   # localStorage key prefix of the participant codes a browser keeps
CHOICES = ["A", "B", "No preference"]
PLAY_EVENTS = (("play", "play"), ("pause", "pause"), ("stop", "ended"))  # gradio event -> play event


@dataclass
class ParticipantView:
    """The participant page's components; ``outputs`` is what ``show`` fills, in order."""

    test_id: gr.State
    code_box: gr.Textbox
    recall: gr.Textbox  # hidden and written by no event: the page load's input (see on_page_load)
    outputs: list
    remember: dict      # the keyword arguments of a ``.then`` that keeps the code in the browser

    def on_page_load(self, fn, outputs: list, test_id: str = "") -> None:
        """Run ``fn(code)`` when the page loads, with the participant code the browser keeps
        (``RECALL_JS``), then keep it. ``gr.on`` without triggers runs on load and on changes of its
        inputs, and no event writes ``recall``, so this runs once per page load."""
        gr.on(None, fn, inputs=[self.recall], outputs=outputs, js=RECALL_JS % (test_id, STORAGE_KEY),
              api_visibility="private").then(**self.remember)


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


def scope(settings: StudioSettings, test_id: str) -> str:
    """``test_id``, unless this server runs only another test."""
    if settings.listen_only and test_id != settings.listen_only:
        raise StudioError(f"this server only runs test {settings.listen_only}")
    return test_id


def participant_view(settings: StudioSettings, fixed_test_id: str = "") -> ParticipantView:
    """Lay out the participant page and wire join, resume, play events and vote."""
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
        where = gr.Markdown(elem_id="listen-where")
        with gr.Row():
            audio_a = gr.Audio(label="A", type="filepath", interactive=False, elem_id="listen-audio-a")
            audio_b = gr.Audio(label="B", type="filepath", interactive=False, elem_id="listen-audio-b")
        missing = gr.Markdown(elem_id="listen-missing")
        choice = gr.Radio(CHOICES, value=None, label="Which one do you prefer?", elem_id="listen-choice")
        comment = gr.Textbox(label="Comment (optional)", lines=2, max_length=2000)
        submit = gr.Button("Submit vote", variant="primary", elem_id="listen-submit")
        code_box = gr.Textbox(label="Your participant code: keep it to continue later on any device",
                              interactive=False, buttons=["copy"])
    with gr.Column(visible=False) as done_col:
        done = gr.Markdown(elem_id="listen-done")
    recall = gr.Textbox(visible=False)
    outputs = [header, join_col, pair_col, done_col, where, audio_a, audio_b, missing, choice, comment, done,
               token, pair_id, code_box]

    @ui_errors("Join the test again from its link")
    def on_start(test: str, who: str, level: str) -> tuple:
        return show(test, join(scope(settings, test), who, level or ""))

    @ui_errors("Check the code, or start afresh")
    def on_resume(test: str, given: str) -> tuple:
        progress(scope(settings, test), given.strip())  # refuses unknown codes and other tests' codes
        return show(test, given.strip())

    @ui_errors()
    def before_vote(test: str, code_: str, pair: int, side: str | None) -> None:
        """Refuse early, with no output (so no error cover over the players); ``vote`` checks again."""
        if not side:
            raise StudioError("no choice was made: choose A, B or No preference, then submit")
        missing = listening_state(scope(settings, test), code_, pair)["missing"]
        if missing:
            raise StudioError(missing)

    @ui_errors("Play both clips, choose A, B or No preference, then submit")
    def on_vote(test: str, code_: str, pair: int, side: str | None, note: str) -> tuple:
        if not side:
            raise StudioError("no choice was made")
        try:
            vote(scope(settings, test), code_, pair, side, note)
        except AlreadyVoted:
            gr.Warning("That pair already had your vote; here is the next one.")
        return show(test, code_)

    def play_handler(side: str, event: str):
        @ui_errors("Reload the page to continue")
        def on_play(test: str, code_: str, pair: int | None) -> str:
            """Record a play, pause or end of one side; say what is still missing before a vote."""
            if not code_ or pair is None:
                return gr.skip()
            state = record_play(scope(settings, test), code_, pair, side, event)
            return state["missing"] or "Both clips heard: choose and submit."
        return on_play

    private = dict(api_visibility="private")
    events = dict(outputs=outputs, **private)
    remember = dict(fn=None, inputs=[code_box], outputs=None, js=REMEMBER_JS % (fixed_test_id, STORAGE_KEY),
                    **private)
    start.click(on_start, [test_id, name, experience], **events).then(**remember)
    resume.click(on_resume, [test_id, code], **events).then(**remember)
    submit.click(before_vote, [test_id, token, pair_id, choice], None, show_progress="hidden", **private
                 ).success(on_vote, [test_id, token, pair_id, choice, comment], **events).then(**remember)
    for side, audio in (("A", audio_a), ("B", audio_b)):
        for gradio_event, play_event in PLAY_EVENTS:  # straight to the server: its clock times the play
            getattr(audio, gradio_event)(play_handler(side, play_event), [test_id, token, pair_id], [missing],
                                         queue=False, show_progress="hidden", **private)
    return ParticipantView(test_id, code_box, recall, outputs, remember)


def show(test_id: str, token: str) -> tuple:
    """Every participant output for where this participant stands (join, a pair, or done)."""
    info = describe_test(test_id)
    needed = info["min_play_s"]
    rule = ("Play A and B to the end, then pick the one you prefer (or no preference)" if needed is None else
            "Play A and B to the end, then pick the one you prefer (or no preference): a vote counts only "
            "once both were heard" if needed == 0 else
            f"Play at least {needed:g} s of A and of B, then pick the one you prefer (or no preference): "
            "a vote counts only once both were heard")
    header = (f"## {info['name']}\nA blind listening test: {info['pairs']} pairs of short piano clips. "
              f"{rule}. Take your time; you can leave and come back.")
    state = None
    if token:
        try:
            state = progress(test_id, token)
        except StudioError:  # a code from an old session or another test: start afresh
            token = ""
    hide, show_ = gr.Column(visible=False), gr.Column(visible=True)
    keep = (gr.skip(),) * 6  # where, audio A, audio B, missing, choice, comment
    if state is None:
        if info["status"] != "open":
            return (header, hide, hide, show_, *keep, "This test is closed. Thank you!", "", None, "")
        return (header, show_, hide, hide, *keep, "", "", None, "")
    if state.next_pair is None or state.status != "open":
        thanks = (f"**Thank you!** You voted on {state.voted} of {state.total} pairs."
                  + ("" if state.done else " The test is closed now."))
        return (header, hide, hide, show_, *keep, thanks, token, None, token)
    pair = state.next_pair
    left = state.total - state.voted
    minutes = left * (pair.duration_a_s + pair.duration_b_s + DECIDE_S) / 60
    bar = "█" * round(20 * state.voted / state.total) + "░" * (20 - round(20 * state.voted / state.total))
    where = (f"**Pair {pair.number} of {pair.total}** ({state.voted} voted so far)  \n"
             f"`{bar}` {state.voted / state.total:.0%} done, about {max(1, round(minutes))} min left")
    missing = "Before voting: A has not been played yet and B has not been played yet."
    return (header, hide, show_, hide, where, str(pair.clip_a), str(pair.clip_b), missing, None, "", "",
            token, pair.pair_id, token)


def build_participant_page(settings: StudioSettings) -> None:
    """The whole page of an ``app.py --listen-only TEST_ID`` launch: the test and nothing else."""
    test_id = settings.listen_only or ""
    describe_test(test_id)  # refuses to launch for an unknown test, with the sentence that says so
    view = participant_view(settings, test_id)
    view.on_page_load(ui_errors()(lambda code: show(test_id, code)), view.outputs, test_id)
    api(settings)


# ---- named API endpoints ----------------------------------------------------------------------
def api(settings: StudioSettings) -> None:
    """listen_join, listen_progress, listen_play, listen_vote, listen_results for scripts and clients."""

    def state(test_id: str, token: str) -> dict:
        now = progress(test_id, token)
        pair = now.next_pair
        return {"test_id": test_id, "token": token, "voted": now.voted, "total": now.total,
                "status": now.status, "next_pair": pair.pair_id if pair else None,
                "next_number": pair.number if pair else None,
                "next_clip_s": max(pair.duration_a_s, pair.duration_b_s) if pair else None}

    def listen_join(test_id: str, name: str = "", experience: str = "") -> dict:
        """Join an open test; returns the participant token and the first pair's id."""
        return state(test_id, join(scope(settings, test_id), name, experience))

    def listen_progress(test_id: str, token: str) -> dict:
        """Where a participant stands: votes so far and the next pair's id (None when done)."""
        return state(scope(settings, test_id), token)

    def listen_play(test_id: str, token: str, pair_id: int, side: str, event: str) -> dict:
        """Report that side A or B of a pair started (play), paused (pause) or reached its end
        (ended); returns what the server counts as heard and what is still missing before a vote."""
        return record_play(scope(settings, test_id), token, pair_id, side, event)

    def listen_vote(test_id: str, token: str, pair_id: int, choice: str, comment: str = "") -> dict:
        """Record one vote (choice A, B or tie), once both clips were heard; a second vote on the
        same pair is refused."""
        recorded = vote(scope(settings, test_id), token, pair_id, choice, comment)
        return {**state(test_id, token), "vote_id": recorded["vote_id"], "choice": recorded["choice"]}

    def listen_results(test_id: str, admin_password: str = "") -> dict:
        """Every figure of a test (admin password when configured)."""
        if settings.listen_only and not settings.admin_password:
            raise StudioError("a listen-only server shows results only when it has an admin password; "
                              f"run python -m pipelines.listen results {test_id}")
        settings.require_admin(admin_password)
        return results(scope(settings, test_id))

    for fn in (listen_join, listen_progress, listen_play, listen_vote, listen_results):
        gr.api(ui_errors()(fn), api_name=fn.__name__)
