"""Stage 5, report sections: DataFrames with Chinese headers answering one question each, and plotly charts."""
