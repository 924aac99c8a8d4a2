"""Words that show no understanding of anything: a short answer made only of these (and of
the question's own words) is not an answer, and no keyword alternative may rest on them.

English stop words (NLTK's list, with apostrophes dropped as the grader drops them) and the
filler of answers that do not answer ("I don't know", "no idea", "not sure, sorry", "pass",
"it depends", "good question"...).
"""

from __future__ import annotations

STOP_WORDS = """
i me my myself we our ours ourselves you youre youve youll youd your yours yourself
yourselves he him his himself she shes her hers herself it its itself they them their
theirs themselves what which who whom this that thatll these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until
while of at by for with about against between into through during before after above below
to from up down in out on off over under again further then once here there when where why
how all any both each few more most other some such no nor not only own same so than too
very s t can will just don dont should shouldve now d ll m o re ve y ain aren arent couldn
couldnt didn didnt doesn doesnt hadn hadnt hasn hasnt haven havent isn isnt ma mightn
mightnt mustn mustnt needn neednt shan shant shouldn shouldnt wasn wasnt weren werent won
wont wouldn wouldnt
"""

NON_ANSWER_WORDS = """
know knew knowing idea ideas clue sure unsure maybe perhaps possibly think thought
guess guessing believe answer answers answered answering question questions ask asking yes
yeah yep yup nope no true false right wrong correct sorry please help pass skip skipping
idk dunno na nothing none nobody anything something everything whatever thing things
stuff good bad great nice ok okay fine really actually basically literally like well lot
lots many much way kind sort bit depends depend depending forgot forget remember understand
tell say said get got go going gone want need try trying tried done lesson course chapter
topic explain describe word words one ones time can cannot cant could
would will shall may might must im ive id ill use used using uses etc lol hmm um uh ah oh
hi hello thanks thank also even still ever never always sometimes often already yet
lorem ipsum dolor sit amet
"""

NOT_TELLING: frozenset[str] = frozenset((STOP_WORDS + NON_ANSWER_WORDS).split())
