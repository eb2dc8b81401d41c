"""Chord spellings from public lead-sheet conventions, with the notes a jazz musician reads in them.

One row a spelling: ``quality | degrees above the root | canonical quality | family``. The
sources are the conventions of the New Real Book (Sher; ``MA7``, ``MI7``, ``+``, ``ø``, ``o``,
parenthesised tensions), iReal Pro's chord qualities (``^``, ``-``, ``h``, ``-b6``, ``7susadd3``),
music21's ChordSymbol abbreviations (``M7``, ``mM7``, ``+M7``, ``7+``, ``dim9``), pychord's
qualities (``m7-5``, ``7-9``, ``7+11``), Levine's *The Jazz Theory Book* (ch. 2-4) and the
Berklee chord-symbol chart. Degrees: 1 b9 9 #9 b3 3 11 #11 b5 5 #5 b13 b6 6 13 bb7 b7 7.
"""
from __future__ import annotations

DEGREES = {"1": 0, "b9": 1, "b2": 1, "9": 2, "2": 2, "#9": 3, "b3": 3, "3": 4, "11": 5, "4": 5,
           "#11": 6, "#4": 6, "b5": 6, "5": 7, "#5": 8, "b13": 8, "b6": 8, "6": 9, "13": 9,
           "bb7": 9, "b7": 10, "7": 11}

TABLE = """
# triads and power chords
                | 1 3 5          |              | maj
M               | 1 3 5          |              | maj
maj             | 1 3 5          |              | maj
MA              | 1 3 5          |              | maj
major           | 1 3 5          |              | maj
m               | 1 b3 5         | m            | min
mi              | 1 b3 5         | m            | min
MI              | 1 b3 5         | m            | min
min             | 1 b3 5         | m            | min
minor           | 1 b3 5         | m            | min
-               | 1 b3 5         | m            | min
dim             | 1 b3 b5        | dim          | dim
o               | 1 b3 b5        | dim          | dim
°               | 1 b3 b5        | dim          | dim
m(b5)           | 1 b3 b5        | dim          | dim
mb5             | 1 b3 b5        | dim          | dim
-b5             | 1 b3 b5        | dim          | dim
aug             | 1 3 #5         | aug          | aug
+               | 1 3 #5         | aug          | aug
(#5)            | 1 3 #5         | aug          | aug
+5              | 1 3 #5         | aug          | aug
(b5)            | 1 3 b5         | (b5)         | maj
-5              | 1 b3 5         | ERROR        | -
sus2            | 1 2 5          | sus2         | sus
sus4            | 1 4 5          | sus4         | sus
sus             | 1 4 5          | sus4         | sus
sus2sus4        | 1 2 4 5        | sus4add9     | sus
sus4(add9)      | 1 2 4 5        | sus4add9     | sus
5               | 1 5            | 5            | power
(no3)           | 1 5            | no3          | maj
omit3           | 1 5            | no3          | maj
(omit5)         | 1 3            | no5          | maj
no5             | 1 3            | no5          | maj
omit5           | 1 3            | no5          | maj
m(no5)          | 1 b3           | mno5         | min
# sixths and added tones
6               | 1 3 5 6        | 6            | maj
M6              | 1 3 5 6        | 6            | maj
maj6            | 1 3 5 6        | 6            | maj
MA6             | 1 3 5 6        | 6            | maj
m6              | 1 b3 5 6       | m6           | min
mi6             | 1 b3 5 6       | m6           | min
MI6             | 1 b3 5 6       | m6           | min
-6              | 1 b3 5 6       | m6           | min
min6            | 1 b3 5 6       | m6           | min
6/9             | 1 3 5 6 9      | 69           | maj
69              | 1 3 5 6 9      | 69           | maj
6(9)            | 1 3 5 6 9      | 69           | maj
6add9           | 1 3 5 6 9      | 69           | maj
6(add9)         | 1 3 5 6 9      | 69           | maj
m6/9            | 1 b3 5 6 9     | m69          | min
m69             | 1 b3 5 6 9     | m69          | min
-69             | 1 b3 5 6 9     | m69          | min
MI6/9           | 1 b3 5 6 9     | m69          | min
6/9(#11)        | 1 3 5 6 9 #11  | 69add#11     | maj
69#11           | 1 3 5 6 9 #11  | 69add#11     | maj
6sus4           | 1 4 5 6        | 6sus4        | sus
6sus            | 1 4 5 6        | 6sus4        | sus
-b6             | 1 b3 5 b6      | mb6          | min
mb6             | 1 b3 5 b6      | mb6          | min
m(b6)           | 1 b3 5 b6      | mb6          | min
-#5             | 1 b3 #5        | m#5          | min
m#5             | 1 b3 #5        | m#5          | min
m+              | 1 b3 #5        | m#5          | min
add9            | 1 3 5 9        | add9         | maj
(add9)          | 1 3 5 9        | add9         | maj
add2            | 1 3 5 9        | add9         | maj
2               | 1 3 5 9        | add9         | maj
Madd9           | 1 3 5 9        | add9         | maj
MAadd9          | 1 3 5 9        | add9         | maj
madd9           | 1 b3 5 9       | madd9        | min
m(add9)         | 1 b3 5 9       | madd9        | min
-add9           | 1 b3 5 9       | madd9        | min
MI(add9)        | 1 b3 5 9       | madd9        | min
m2              | 1 b3 5 9       | madd9        | min
add11           | 1 3 5 11       | add11        | maj
add4            | 1 3 5 11       | add11        | maj
madd11          | 1 b3 5 11      | madd11       | min
msus4           | 1 b3 4 5       | madd11       | min
msus            | 1 b3 4 5       | madd11       | min
msus2           | 1 9 b3 5       | madd9        | min
add13           | 1 3 5 13       | add13        | maj
add#11          | 1 3 #11 5      | add#11       | maj
(#11)           | 1 3 #11 5      | add#11       | maj
(b9)            | 1 b9 3 5       | addb9        | maj
addb9           | 1 b9 3 5       | addb9        | maj
add9(no3)       | 1 9 5          | add9no3      | maj
# sevenths
7               | 1 3 5 b7       | 7            | dom
dom7            | 1 3 5 b7       | 7            | dom
maj7            | 1 3 5 7        | maj7         | maj
Maj7            | 1 3 5 7        | maj7         | maj
MAJ7            | 1 3 5 7        | maj7         | maj
M7              | 1 3 5 7        | maj7         | maj
MA7             | 1 3 5 7        | maj7         | maj
ma7             | 1 3 5 7        | maj7         | maj
Δ               | 1 3 5 7        | maj7         | maj
Δ7              | 1 3 5 7        | maj7         | maj
△7              | 1 3 5 7        | maj7         | maj
^               | 1 3 5 7        | maj7         | maj
^7              | 1 3 5 7        | maj7         | maj
maj(7)          | 1 3 5 7        | maj7         | maj
m7              | 1 b3 5 b7      | m7           | min
mi7             | 1 b3 5 b7      | m7           | min
MI7             | 1 b3 5 b7      | m7           | min
min7            | 1 b3 5 b7      | m7           | min
-7              | 1 b3 5 b7      | m7           | min
mMaj7           | 1 b3 5 7       | mMaj7        | min
mM7             | 1 b3 5 7       | mMaj7        | min
m(maj7)         | 1 b3 5 7       | mMaj7        | min
mi(ma7)         | 1 b3 5 7       | mMaj7        | min
MI(MA7)         | 1 b3 5 7       | mMaj7        | min
minmaj7         | 1 b3 5 7       | mMaj7        | min
-Δ7             | 1 b3 5 7       | mMaj7        | min
-^7             | 1 b3 5 7       | mMaj7        | min
-^              | 1 b3 5 7       | mMaj7        | min
mΔ              | 1 b3 5 7       | mMaj7        | min
m(maj)          | 1 b3 5 7       | mMaj7        | min
m7b5            | 1 b3 b5 b7     | m7b5         | hdim
m7(b5)          | 1 b3 b5 b7     | m7b5         | hdim
m7-5            | 1 b3 b5 b7     | m7b5         | hdim
mi7(b5)         | 1 b3 b5 b7     | m7b5         | hdim
MI7(b5)         | 1 b3 b5 b7     | m7b5         | hdim
-7b5            | 1 b3 b5 b7     | m7b5         | hdim
ø               | 1 b3 b5 b7     | m7b5         | hdim
ø7              | 1 b3 b5 b7     | m7b5         | hdim
Ø7              | 1 b3 b5 b7     | m7b5         | hdim
h               | 1 b3 b5 b7     | m7b5         | hdim
h7              | 1 b3 b5 b7     | m7b5         | hdim
dim7            | 1 b3 b5 bb7    | dim7         | dim
o7              | 1 b3 b5 bb7    | dim7         | dim
°7              | 1 b3 b5 bb7    | dim7         | dim
dim(maj7)       | 1 b3 b5 7      | dimMaj7      | dim
o(maj7)         | 1 b3 b5 7      | dimMaj7      | dim
oΔ7             | 1 b3 b5 7      | dimMaj7      | dim
o^7             | 1 b3 b5 7      | dimMaj7      | dim
dimMaj7         | 1 b3 b5 7      | dimMaj7      | dim
m(maj7)b5       | 1 b3 b5 7      | dimMaj7      | dim
7sus4           | 1 4 5 b7       | 7sus4        | sus
7sus            | 1 4 5 b7       | 7sus4        | sus
sus7            | 1 4 5 b7       | 7sus4        | sus
7sus2           | 1 2 5 b7       | 7sus2        | sus
maj7sus4        | 1 4 5 7        | maj7sus4     | sus
7susadd3        | 1 3 4 5 b7     | 7sus4add3    | sus
7(add3)sus4     | 1 3 4 5 b7     | 7sus4add3    | sus
aug7            | 1 3 #5 b7      | 7#5          | dom
+7              | 1 3 #5 b7      | 7#5          | dom
7+              | 1 3 #5 b7      | 7#5          | dom
7#5             | 1 3 #5 b7      | 7#5          | dom
7(#5)           | 1 3 #5 b7      | 7#5          | dom
7+5             | 1 3 #5 b7      | 7#5          | dom
7aug            | 1 3 #5 b7      | 7#5          | dom
+Δ7             | 1 3 #5 7       | maj7#5       | maj
+M7             | 1 3 #5 7       | maj7#5       | maj
+maj7           | 1 3 #5 7       | maj7#5       | maj
aug(maj7)       | 1 3 #5 7       | maj7#5       | maj
M7+             | 1 3 #5 7       | maj7#5       | maj
maj7#5          | 1 3 #5 7       | maj7#5       | maj
^7#5            | 1 3 #5 7       | maj7#5       | maj
MA7(#5)         | 1 3 #5 7       | maj7#5       | maj
+Δ              | 1 3 #5 7       | maj7#5       | maj
7b5             | 1 3 b5 b7      | 7b5          | dom
7(b5)           | 1 3 b5 b7      | 7b5          | dom
7-5             | 1 3 b5 b7      | 7b5          | dom
7b5#5           | 1 3 b5 #5 b7   | 7b5#5        | dom
maj7b5          | 1 3 b5 7       | maj7b5       | maj
6(maj7)         | 1 3 5 6 7      | maj7add13    | maj
m6(maj7)        | 1 b3 5 6 7     | mMaj7add13   | min
m6(Δ7)          | 1 b3 5 6 7     | mMaj7add13   | min
7(no3)          | 1 5 b7         | 7no3         | dom
7(omit5)        | 1 3 b7         | 7no5         | dom
m7(no5)         | 1 b3 b7        | m7no5        | min
# ninths
9               | 1 3 5 b7 9     | 9            | dom
7(9)            | 1 3 5 b7 9     | 9            | dom
7add9           | 1 3 5 b7 9     | 9            | dom
maj9            | 1 3 5 7 9      | maj9         | maj
M9              | 1 3 5 7 9      | maj9         | maj
MA9             | 1 3 5 7 9      | maj9         | maj
Δ9              | 1 3 5 7 9      | maj9         | maj
^9              | 1 3 5 7 9      | maj9         | maj
maj7(9)         | 1 3 5 7 9      | maj9         | maj
MA7(9)          | 1 3 5 7 9      | maj9         | maj
m9              | 1 b3 5 b7 9    | m9           | min
mi9             | 1 b3 5 b7 9    | m9           | min
MI9             | 1 b3 5 b7 9    | m9           | min
-9              | 1 b3 5 b7 9    | m9           | min
m7(9)           | 1 b3 5 b7 9    | m9           | min
mMaj9           | 1 b3 5 7 9     | mMaj9        | min
m(maj9)         | 1 b3 5 7 9     | mMaj9        | min
-^9             | 1 b3 5 7 9     | mMaj9        | min
mM9             | 1 b3 5 7 9     | mMaj9        | min
m9b5            | 1 b3 b5 b7 9   | m9b5         | hdim
ø9              | 1 b3 b5 b7 9   | m9b5         | hdim
h9              | 1 b3 b5 b7 9   | m9b5         | hdim
m7b5(9)         | 1 b3 b5 b7 9   | m9b5         | hdim
dim9            | 1 b3 b5 bb7 9  | dim9         | dim
o9              | 1 b3 b5 bb7 9  | dim9         | dim
dim7(9)         | 1 b3 b5 bb7 9  | dim9         | dim
o7(add9)        | 1 b3 b5 bb7 9  | dim9         | dim
ob9             | 1 b9 b3 b5 bb7 | dim7b9       | dim
dim(b9)         | 1 b9 b3 b5 bb7 | dim7b9       | dim
o7b9            | 1 b9 b3 b5 bb7 | dim7b9       | dim
9sus4           | 1 4 5 b7 9     | 9sus4        | sus
9sus            | 1 4 5 b7 9     | 9sus4        | sus
7sus4(9)        | 1 4 5 b7 9     | 9sus4        | sus
aug9            | 1 3 #5 b7 9    | 9#5          | dom
+9              | 1 3 #5 b7 9    | 9#5          | dom
9+              | 1 3 #5 b7 9    | 9#5          | dom
9#5             | 1 3 #5 b7 9    | 9#5          | dom
9(#5)           | 1 3 #5 b7 9    | 9#5          | dom
9b5             | 1 3 b5 b7 9    | 9b5          | dom
9(b5)           | 1 3 b5 b7 9    | 9b5          | dom
9-5             | 1 3 b5 b7 9    | 9b5          | dom
9#11            | 1 3 5 b7 9 #11 | 9#11         | dom
9(#11)          | 1 3 5 b7 9 #11 | 9#11         | dom
9+11            | 1 3 5 b7 9 #11 | 9#11         | dom
maj9#11         | 1 3 5 7 9 #11  | maj9#11      | maj
^9#11           | 1 3 5 7 9 #11  | maj9#11      | maj
MA9(#11)        | 1 3 5 7 9 #11  | maj9#11      | maj
+maj9           | 1 3 #5 7 9     | maj9#5       | maj
maj9(no3)       | 1 5 7 9        | maj9no3      | maj
# elevenths and thirteenths
11              | 1 3 5 b7 9 11  | 11           | dom
dom11           | 1 3 5 b7 9 11  | 11           | dom
9(11)           | 1 3 5 b7 9 11  | 11           | dom
m11             | 1 b3 5 b7 9 11 | m11          | min
mi11            | 1 b3 5 b7 9 11 | m11          | min
-11             | 1 b3 5 b7 9 11 | m11          | min
MI11            | 1 b3 5 b7 9 11 | m11          | min
m7(11)          | 1 b3 5 b7 9 11 | m11          | min
m7add11         | 1 b3 5 b7 11   | m7add11      | min
m7sus4          | 1 b3 4 5 b7    | m7add11      | min
maj11           | 1 3 5 7 9 11   | maj11        | maj
M11             | 1 3 5 7 9 11   | maj11        | maj
mMaj11          | 1 b3 5 7 9 11  | mMaj11       | min
m11b5           | 1 b3 b5 b7 9 11 | m11b5       | hdim
ø11             | 1 b3 b5 b7 9 11 | m11b5       | hdim
dim11           | 1 b3 b5 bb7 9 11 | dim11      | dim
o11             | 1 b3 b5 bb7 9 11 | dim11      | dim
13              | 1 3 5 b7 9 13  | 13           | dom
7(13)           | 1 3 5 b7 9 13  | 13           | dom
9(13)           | 1 3 5 b7 9 13  | 13           | dom
7add13          | 1 3 5 b7 13    | 7add13       | dom
7(6)            | 1 3 5 b7 13    | 7add13       | dom
maj13           | 1 3 5 7 9 13   | maj13        | maj
M13             | 1 3 5 7 9 13   | maj13        | maj
MA13            | 1 3 5 7 9 13   | maj13        | maj
Δ13             | 1 3 5 7 9 13   | maj13        | maj
^13             | 1 3 5 7 9 13   | maj13        | maj
maj7(13)        | 1 3 5 7 9 13   | maj13        | maj
m13             | 1 b3 5 b7 9 11 13 | m13       | min
mi13            | 1 b3 5 b7 9 11 13 | m13       | min
-13             | 1 b3 5 b7 9 11 13 | m13       | min
MI13            | 1 b3 5 b7 9 11 13 | m13       | min
mMaj13          | 1 b3 5 7 9 11 13 | mMaj13     | min
13sus4          | 1 4 5 b7 9 13  | 13sus4       | sus
13sus           | 1 4 5 b7 9 13  | 13sus4       | sus
13#11           | 1 3 5 b7 9 #11 13 | 13#11     | dom
13(#11)         | 1 3 5 b7 9 #11 13 | 13#11     | dom
13+11           | 1 3 5 b7 9 #11 13 | 13#11     | dom
maj13#11        | 1 3 5 7 9 #11 13 | maj13#11   | maj
^13#11          | 1 3 5 7 9 #11 13 | maj13#11   | maj
13b9            | 1 b9 3 5 b7 13 | 13b9         | dom
13(b9)          | 1 b9 3 5 b7 13 | 13b9         | dom
13-9            | 1 b9 3 5 b7 13 | 13b9         | dom
13#9            | 1 #9 3 5 b7 13 | 13#9         | dom
13b5            | 1 3 b5 b7 9 13 | 13b5         | dom
13sus4b9        | 1 b9 4 5 b7 13 | 13sus4b9     | sus
# altered dominants
7alt            | 1 b9 #9 3 #11 b13 b7 | 7alt   | dom
alt             | 1 b9 #9 3 #11 b13 b7 | 7alt   | dom
7altered        | 1 b9 #9 3 #11 b13 b7 | 7alt   | dom
7b9             | 1 b9 3 5 b7    | 7b9          | dom
7(b9)           | 1 b9 3 5 b7    | 7b9          | dom
7-9             | 1 b9 3 5 b7    | 7b9          | dom
7♭9             | 1 b9 3 5 b7    | 7b9          | dom
7#9             | 1 #9 3 5 b7    | 7#9          | dom
7(#9)           | 1 #9 3 5 b7    | 7#9          | dom
7+9             | 1 #9 3 5 b7    | 7#9          | dom
7♯9             | 1 #9 3 5 b7    | 7#9          | dom
7#11            | 1 3 #11 5 b7   | 7#11         | dom
7(#11)          | 1 3 #11 5 b7   | 7#11         | dom
7+11            | 1 3 #11 5 b7   | 7#11         | dom
7(♯11)          | 1 3 #11 5 b7   | 7#11         | dom
7b13            | 1 3 5 b13 b7   | 7b13         | dom
7(b13)          | 1 3 5 b13 b7   | 7b13         | dom
7(b6)           | 1 3 5 b13 b7   | 7b13         | dom
7b9b13          | 1 b9 3 5 b13 b7 | 7b9b13      | dom
7(b9,b13)       | 1 b9 3 5 b13 b7 | 7b9b13      | dom
7#9b13          | 1 #9 3 5 b13 b7 | 7#9b13      | dom
7#9#5           | 1 #9 3 #5 b7   | 7#5#9        | dom
7#5#9           | 1 #9 3 #5 b7   | 7#5#9        | dom
+7#9            | 1 #9 3 #5 b7   | 7#5#9        | dom
7#9b5           | 1 #9 3 b5 b7   | 7b5#9        | dom
7b9b5           | 1 b9 3 b5 b7   | 7b5b9        | dom
7b9#5           | 1 b9 3 #5 b7   | 7#5b9        | dom
7+(b9)          | 1 b9 3 #5 b7   | 7#5b9        | dom
7b9#9           | 1 b9 #9 3 5 b7 | 7b9#9        | dom
7b9#11          | 1 b9 3 #11 5 b7 | 7b9#11      | dom
7(b9,#11)       | 1 b9 3 #11 5 b7 | 7b9#11      | dom
7(b9/#11)       | 1 b9 3 #11 5 b7 | 7b9#11      | dom
7#9#11          | 1 #9 3 #11 5 b7 | 7#9#11      | dom
7(#9,#11)       | 1 #9 3 #11 5 b7 | 7#9#11      | dom
7(b9,#9,#11)    | 1 b9 #9 3 #11 5 b7 | 7b9#9#11 | dom
7#11b13         | 1 3 #11 5 b13 b7 | 7#11b13    | dom
9#5#11          | 1 3 #5 b7 9 #11 | 9#5#11      | dom
7b9sus          | 1 b9 4 5 b7    | 7sus4b9      | sus
7sus4b9         | 1 b9 4 5 b7    | 7sus4b9      | sus
7sus(b9)        | 1 b9 4 5 b7    | 7sus4b9      | sus
7b13sus         | 1 4 5 b13 b7   | 7sus4b13     | sus
7#9sus4         | 1 #9 4 5 b7    | 7sus4#9      | sus
m7b9            | 1 b9 b3 5 b7   | m7b9         | min
m7(b9)          | 1 b9 b3 5 b7   | m7b9         | min
m7b13           | 1 b3 5 b13 b7  | m7b13        | min
m7(#11)         | 1 b3 #11 5 b7  | m7#11        | min
m9(maj7)        | 1 b3 5 7 9     | mMaj9        | min
ø7(b9)          | 1 b9 b3 b5 b7  | m7b5b9       | hdim
m7b5(11)        | 1 b3 b5 b7 9 11 | m11b5       | hdim
maj7#11         | 1 3 #11 5 7    | maj7#11      | maj
maj7(#11)       | 1 3 #11 5 7    | maj7#11      | maj
MA7(#11)        | 1 3 #11 5 7    | maj7#11      | maj
^7#11           | 1 3 #11 5 7    | maj7#11      | maj
Δ7♯11           | 1 3 #11 5 7    | maj7#11      | maj
M7+11           | 1 3 #11 5 7    | maj7#11      | maj
"""


def rows() -> list[tuple[str, frozenset[int], str, str]]:
    """(quality text, intervals, canonical quality or 'ERROR', family) for every row of the table."""
    out = []
    for line in TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        quality, degrees, name, family = (part.strip() for part in line.split("|"))
        out.append((quality, frozenset(DEGREES[d] for d in degrees.split()), name, family))
    return out
