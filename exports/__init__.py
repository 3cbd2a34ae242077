"""Moneybird purchase-invoice and receipt sync, mutation tracking and xlsx exports."""
