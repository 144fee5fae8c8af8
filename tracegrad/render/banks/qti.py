"""Canvas QTI 1.2: a zip with ``imsmanifest.xml`` and one ``<objectbank>`` file per variant
(Canvas makes a question bank of each, titled by its ``bank_title``), shaped like Canvas's
own export: ``numerical_question`` items whose answers are exact values with a margin.

Canvas keeps four decimals of an answer and of its margin (0.00004 becomes 0), so a
question whose tolerance is below 0.005 asks for the value in a scaled unit: in units of
10⁻ᵏ, k the smallest making every margin at least 0.005; rounding the scaled numbers to
four decimals then moves a bound by at most 1 % of its margin. Canvas counts every answer
of a numerical question as correct, so the likely mistakes are listed in the question's
incorrect-answer feedback instead of being answers. The zip's entries are sorted and carry a
fixed timestamp: the same bank gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape as xml_escape, quoteattr

from ...core import escape
from ...core.notation import Math
from .moodle import cdata
from .prose import Prose, decimal_text

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CANVAS_PLACES = Decimal("0.0001")
MIN_MARGIN = Decimal("0.005")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def ident(*parts: str) -> str:
    """A stable ASCII identifier (Canvas reuses banks and questions by identifier on re-import)."""
    return "tg" + hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:20]


def scale(q) -> int:
    """k ≥ 0, the smallest for which every margin × 10ᵏ is at least 0.005."""
    smallest = min(Decimal(repr(a.tolerance)) for a in q.answers)
    k = 0
    while smallest.scaleb(k) < MIN_MARGIN:
        k += 1
    return k


def canvas_number(x: float, k: int) -> Decimal:
    """``x`` × 10ᵏ at Canvas's four decimals."""
    return Decimal(repr(float(x))).scaleb(k).quantize(CANVAS_PLACES, rounding=ROUND_HALF_UP)


def write_qti(bank, *, template_dir=None) -> bytes:
    """The bank as a Canvas QTI 1.2 zip package."""
    prose = Prose(bank.lang, template_dir)
    files = {}
    resources = []
    for category in bank.categories:
        bank_id = ident(bank.title, category.name)
        href = f"{bank_id}.xml"
        files[href] = _objectbank(prose, bank, category, bank_id)
        resources.append(f'    <resource identifier="r{bank_id}" type="imsqti_xmlv1p2" href="{href}">\n'
                         f'      <file href="{href}"/>\n    </resource>\n')
    files["imsmanifest.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest identifier="{ident(bank.title)}" xmlns="{CP_NS}">\n'
        "  <metadata>\n    <schema>IMS Content</schema>\n    <schemaversion>1.1.3</schemaversion>\n  </metadata>\n"
        "  <organizations/>\n  <resources>\n" + "".join(resources) + "  </resources>\n</manifest>\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


def _field(label: str, entry: str, indent: str) -> str:
    return (f"{indent}<qtimetadatafield><fieldlabel>{label}</fieldlabel>"
            f"<fieldentry>{xml_escape(escape.plain(entry))}</fieldentry></qtimetadatafield>\n")


def _objectbank(prose, bank, category, bank_id: str) -> str:
    title = f"{bank.title} — {category.name}" if bank.title != category.name else category.name
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<questestinterop xmlns="{QTI_NS}">\n',
           f'  <objectbank ident="{bank_id}">\n', "    <qtimetadata>\n", _field("bank_title", title, "      "),
           "    </qtimetadata>\n"]
    for index, q in enumerate(category.questions, start=1):
        out.append(_item(prose, category, index, q, ident(bank.title, category.name, q.key)))
    out += ["  </objectbank>\n", "</questestinterop>\n"]
    return "".join(out)


def _mattext(html: str, indent: str) -> str:
    return f'{indent}<material><mattext texttype="text/html">{cdata(html)}</mattext></material>\n'


def _item(prose, category, index, q, item_id: str) -> str:
    k = scale(q)
    unit = ""
    if k:
        unit = prose.html("bank.unit", unit=prose.math(Math(f"10^{{-{k}}}", f"10^-{k}")),
                          factor=decimal_text(Decimal(1).scaleb(k)), example=decimal_text(Decimal("0.25").scaleb(k)))
    out = [f"    <item ident=\"{item_id}\" title={quoteattr(escape.plain(prose.name(index, q)))}>\n",
           "      <itemmetadata>\n        <qtimetadata>\n",
           _field("question_type", "numerical_question", "          "),
           _field("points_possible", "1.0", "          "),
           "        </qtimetadata>\n      </itemmetadata>\n",
           "      <presentation>\n", _mattext(prose.question(category, q, unit), "        "),
           '        <response_str ident="response1" rcardinality="Single">\n'
           '          <render_fib fibtype="Decimal"><response_label ident="answer1"/></render_fib>\n'
           "        </response_str>\n      </presentation>\n",
           "      <resprocessing>\n        <outcomes>\n"
           '          <decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/>\n'
           "        </outcomes>\n"]
    for n, choice in enumerate(q.right, start=1):
        exact, margin = canvas_number(choice.value, k), Decimal(repr(choice.tolerance)).scaleb(k)
        margin = margin.quantize(CANVAS_PLACES, rounding=ROUND_HALF_UP)
        out.append('        <respcondition continue="No">\n          <conditionvar>\n            <or>\n'
                   f'              <varequal respident="response1">{decimal_text(exact)}</varequal>\n'
                   "              <and>\n"
                   f'                <vargte respident="response1">{decimal_text(exact - margin)}</vargte>\n'
                   f'                <varlte respident="response1">{decimal_text(exact + margin)}</varlte>\n'
                   "              </and>\n            </or>\n          </conditionvar>\n"
                   '          <setvar action="Set" varname="SCORE">100</setvar>\n'
                   f'          <displayfeedback feedbacktype="Response" linkrefid="{n}_fb"/>\n'
                   "        </respcondition>\n")
    out.append('        <respcondition continue="Yes">\n          <conditionvar><other/></conditionvar>\n'
               '          <displayfeedback feedbacktype="Response" linkrefid="general_incorrect_fb"/>\n'
               "        </respcondition>\n      </resprocessing>\n")
    feedback = [("general_incorrect_fb", _incorrect(prose, q, k))]
    feedback += [(f"{n}_fb", prose.feedback(category, q, choice)) for n, choice in enumerate(q.right, start=1)]
    for name, html in feedback:
        out.append(f'      <itemfeedback ident="{name}">\n        <flow_mat>\n'
                   + _mattext(html, "          ") + "        </flow_mat>\n      </itemfeedback>\n")
    out.append("    </item>\n")
    return "".join(out)


def _incorrect(prose, q, k: int) -> str:
    """The incorrect-answer feedback: the values that point to a likely mistake, then the correct step."""
    out = ""
    if q.wrong:
        items = "".join("<li>" + prose.html("bank.incorrect_item", value=decimal_text(canvas_number(c.value, k)),
                                            mistakes=prose.mistakes(c)) + "</li>" for c in q.wrong)
        out = f"<p>{prose.text(prose.msg('bank.incorrect'))}</p><ul>{items}</ul>"
    return out + prose.general(q)
