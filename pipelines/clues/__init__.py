"""clues"""
