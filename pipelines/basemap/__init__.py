"""basemap"""
