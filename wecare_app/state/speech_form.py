"""What a call says: the text or SSML, the Polly voice and the spoken-length preview. Shared by /voice/new and the
compose page's Voice channel: `SpeechForm` is a state mixin, `speech_fields` and `speech_preview` its controls."""
from __future__ import annotations

from html import escape

import reflex as rx

from backend.services.channels.voice.calls import MESSAGE_BODY_MAX, VOICE_IDS
from backend.errors import ValidationError
from backend.services.channels.voice import ssml
from backend.services.channels.voice.calls import SPOKEN_MAX
from backend.settings import get_settings
from wecare_app.components.controls import segment_value

TEXT_TYPES = {"TEXT": "Plain text", "SSML": "SSML"}
SSML_EXAMPLE = '<speak>Hello. <break time="500ms"/> Your appointment is <emphasis>tomorrow</emphasis> at ten.</speak>'


def voice_label(voice_id: str | None) -> str:
    """JOANNA -> Joanna."""
    return (voice_id or "").title()


def spoken_length(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds) // 60} min {int(seconds) % 60:02d} s"


def speech_summary(text: str, text_type: str) -> dict[str, str]:
    """The preview beside the editor: how long the call talks, or why the SSML cannot be said."""
    if not text.strip():
        return {"summary": "Nothing to say yet", "detail": "", "error": "", "warning": ""}
    try:
        estimate = ssml.speech_estimate(text, text_type)
        if text_type == "SSML":
            ssml.validate_ssml(text)
    except ValidationError as error:
        return {"summary": "", "detail": "", "error": error.message.removeprefix("text: "), "warning": ""}
    warning = ""
    if estimate.characters > SPOKEN_MAX:
        warning = f"A call says at most {SPOKEN_MAX:,} characters; this says {estimate.characters:,}."
    elif len(text) > MESSAGE_BODY_MAX:
        warning = f"At most {MESSAGE_BODY_MAX:,} characters including SSML tags; this has {len(text):,}."
    return {
        "summary": f"≈ {spoken_length(estimate.seconds)} spoken",
        "detail": f"{estimate.words} word{'s' if estimate.words != 1 else ''} · {estimate.characters:,} characters said",
        "error": "",
        "warning": warning,
    }


class SpeechForm(rx.State, mixin=True):
    speech_text: str = ""
    speech_type: str = "TEXT"
    voice_id: str = ""

    @rx.var
    def speech_preview(self) -> dict[str, str]:
        return speech_summary(self.speech_text, self.speech_type)

    def _reset_speech(self) -> None:
        self.speech_text = ""
        self.speech_type = "TEXT"
        self.voice_id = get_settings().voice_default_voice_id.strip().upper()
        if self.voice_id not in VOICE_IDS:
            self.voice_id = VOICE_IDS[0]

    @rx.event
    def set_speech_text(self, value: str):
        self.speech_text = value

    @rx.event
    def set_voice_id(self, value: str):
        self.voice_id = value

    @rx.event(background=True)
    async def set_speech_type(self, value: str | list[str]):
        """Switching keeps the words: plain text is wrapped in <speak>, SSML is read back to its words (parsed on
        a worker thread, like every call into the service layer)."""
        value = segment_value(value)
        async with self:
            if value == self.speech_type or value not in TEXT_TYPES:
                return
            typed = self.speech_text
        text = typed.strip()
        converted = typed
        if value == "SSML" and text and not text.startswith("<speak"):
            converted = f"<speak>{escape(text, quote=False)}</speak>"
        elif value == "TEXT" and text:
            try:
                converted = await self.offload(ssml.spoken_text, text, "SSML")
            except ValidationError:
                pass  # not valid SSML: keep it as typed, the preview says what is wrong
        async with self:
            if self.speech_text == typed:  # not edited meanwhile
                self.speech_text = converted
            self.speech_type = value

    @rx.event
    def use_ssml_example(self):
        self.speech_type = "SSML"
        self.speech_text = SSML_EXAMPLE

    def _speech_request(self) -> dict:
        return {"text": self.speech_text, "textType": self.speech_type, "voiceId": self.voice_id or None}


# ---------------------------------------------------------------- components


def speech_fields(text, text_type, voice, on_text, on_type, on_voice, on_example, *, text_id: str, voice_select_id: str) -> rx.Component:
    """Text/SSML toggle, the editor and the voice select."""
    return rx.vstack(
        rx.hstack(
            rx.text("What the call says", size="2", weight="medium"),
            rx.spacer(),
            rx.segmented_control.root(
                *[rx.segmented_control.item(label, value=value) for value, label in TEXT_TYPES.items()],
                value=text_type,
                on_change=on_type,
                size="1",
                id=f"{text_id}-type",
            ),
            align="center",
            width="100%",
        ),
        rx.text_area(
            value=text,
            on_change=on_text.debounce(250),
            placeholder=rx.cond(text_type == "SSML", SSML_EXAMPLE, "Hello, this is WECARE calling about your appointment tomorrow at ten."),
            rows="7",
            width="100%",
            font_family=rx.cond(text_type == "SSML", "monospace", "inherit"),
            max_length=MESSAGE_BODY_MAX,
            id=text_id,
        ),
        rx.cond(
            text_type == "SSML",
            rx.hstack(
                rx.text("Tags Polly reads: speak, break, emphasis, prosody, say-as, sub, p, s…", size="1", color=rx.color("gray", 10)),
                rx.button("Insert an example", size="1", variant="ghost", on_click=on_example),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text("Read aloud by Amazon Polly exactly as written.", size="1", color=rx.color("gray", 10)),
        ),
        rx.vstack(
            rx.text("Voice", size="2", weight="medium"),
            rx.select.root(
                rx.select.trigger(width="220px", id=voice_select_id),
                rx.select.content(*[rx.select.item(voice_label(v), value=v) for v in VOICE_IDS]),
                value=voice,
                on_change=on_voice,
            ),
            spacing="1",
        ),
        spacing="2",
        width="100%",
    )


def speech_preview(preview, voice, *, estimate_id: str) -> rx.Component:
    """The spoken length (or what is wrong with the SSML)."""
    return rx.hstack(
        rx.icon(rx.cond(preview["error"] != "", "circle-alert", "audio-lines"), size=18,
                color=rx.cond(preview["error"] != "", rx.color("red", 10), rx.color("accent", 10))),
        rx.cond(
            preview["error"] != "",
            rx.text(preview["error"], size="2", color=rx.color("red", 11)),
            rx.vstack(
                rx.hstack(
                    rx.text(preview["summary"], size="2", weight="medium"),
                    rx.cond(
                        preview["detail"] != "",
                        rx.text("in ", voice.to(str)[:1] + voice.to(str)[1:].lower(), size="2", color=rx.color("gray", 10)),
                    ),
                    spacing="1",
                ),
                rx.cond(preview["detail"] != "", rx.text(preview["detail"], size="1", color=rx.color("gray", 10))),
                rx.cond(preview["warning"] != "", rx.text(preview["warning"], size="1", color=rx.color("red", 11))),
                spacing="0",
            ),
        ),
        align="center",
        spacing="2",
        padding="10px 12px",
        border_radius="8px",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        id=estimate_id,
    )
