"""Stage 6, artefacts: safe HTML pieces for pages, the results workbook, the papermill/nbconvert batch runner."""
