"""Formats beyond the shipped ones: Word documents, and action plans set out as tables of measures."""

from __future__ import annotations

import pytest

from assistant.chunking import units_for_document
from assistant.errors import AssistantError
from assistant.ingest import load_source
from assistant.ingest.structure import checked_kind, detect_kind
from assistant.records import Document


def _document(kind: str, name: str) -> Document:
    return Document(id="t", title="Test", issuing_body="", reference="—", date="", kind=kind, language="en",
                    source_file=name)


def test_a_word_document_keeps_its_headings_lists_and_tables(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.core_properties.title = "Operational plan for the Central Mediterranean"
    document.core_properties.author = "European Commission"
    document.add_heading("Operational plan for the Central Mediterranean", level=1)
    document.add_paragraph("The plan sets out the measures agreed with the Member States concerned in 2023.")
    document.add_heading("1. Search and rescue", level=2)
    document.add_paragraph("Member States will coordinate their search and rescue operations as follows:")
    document.add_paragraph("pool the vessels available in the region", style="List Bullet")
    document.add_paragraph("share the position of every boat in distress", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Partner", "Support"
    table.cell(1, 0).text, table.cell(1, 1).text = "Tunisia", "Two patrol vessels delivered in June"
    path = tmp_path / "plan.docx"
    document.save(str(path))
    source = load_source(path)
    assert source.hints.title == "Operational plan for the Central Mediterranean"
    assert source.hints.issuer == "European Commission"
    units = units_for_document(_document("general", path.name), source.lines)
    assert [u.locator for u in units] == ["Paragraph 1", "Section 1 Search and rescue"]
    section = units[1].text.split("\n")
    assert section[:4] == ["Search and rescue", "Member States will coordinate their search and rescue operations as follows:",
                           "- pool the vessels available in the region", "- share the position of every boat in distress"]
    assert "- Partner: Tunisia; Support: Two patrol vessels delivered in June" in section


MEASURES = """# Action plan on the Western Balkans

| Measure | Responsible | Timeline | State of play |
| --- | --- | --- | --- |
| Deploy Frontex teams at the border with Serbia | Frontex, MS | 2023 | Ongoing: two teams deployed |
| Align visa policies with the EU | Western Balkan partners | end of 2023 | Serbia has aligned on two countries |
| Sign readmission arrangements | Commission | 2024 | Not started |
"""


def test_a_table_of_measures_is_an_action_file_with_one_unit_per_measure(tmp_path):
    path = tmp_path / "measures.md"
    path.write_text(MEASURES, encoding="utf-8")
    lines = load_source(path).lines
    assert detect_kind(lines) == "action_file"
    units = units_for_document(_document("action_file", path.name), lines)
    measures = [u for u in units if u.kind == "action"]
    assert [u.locator for u in measures] == ["Measure 1", "Measure 2", "Measure 3"]
    assert measures[0].fields["lead_actors"] == "Frontex, MS"
    assert measures[0].fields["status"] == "Ongoing: two teams deployed"
    assert measures[1].fields["way_ahead"] == "end of 2023"
    assert measures[2].text.startswith("Measure 3. Sign readmission arrangements\nLead actor(s): Commission\nStatus: Not started")


def test_a_declared_kind_the_structure_contradicts_is_refused_or_warned(tmp_path):
    path = tmp_path / "measures.md"
    path.write_text(MEASURES, encoding="utf-8")
    lines = load_source(path).lines
    with pytest.raises(AssistantError, match="has no salutation"):
        checked_kind("letter", lines, path.name)
    kind, warnings = checked_kind("general", lines, path.name)
    assert kind == "general" and warnings == ["measures.md reads like an action file; it was read as a general "
                                              "document, as asked."]
    prose = tmp_path / "report.txt"
    prose.write_text("The report describes the situation of asylum in the European Union in 2023.\n", encoding="utf-8")
    with pytest.raises(AssistantError, match="has no action table"):
        checked_kind("action_file", load_source(prose).lines, prose.name)
