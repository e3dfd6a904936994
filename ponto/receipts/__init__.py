"""Receipts (comprovantes de registro de ponto, Portaria 671 art. 79-80): what a sealed punch's receipt
says, as JSON and as a signed PDF, and the read routes that serve them to clocks and employees."""
