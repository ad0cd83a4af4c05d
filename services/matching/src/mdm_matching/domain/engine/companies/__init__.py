"""The match engine for companies: features, comparisons and guards, blocking, and a
Fellegi-Sunter model trained by EM, as for persons but on what identifies a company
(name without legal form, register entry, VAT id, LEI, web domain, address)."""
