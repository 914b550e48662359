"""绿色金融与碳核算: the green enterprise and project library (by the 绿色产业指导目录),
industrial carbon accounting with a sourced factor database, 碳效 grades, and
institutions' environmental information disclosure (JR/T 0227-2021).

A mid-layer app: it reads the registry, finance and insights below it and is
read by nothing but the api assembly, the demo and the portal above it.
"""
