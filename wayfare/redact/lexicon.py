"""Capitalised words that follow a name cue but are not people.

"flying with Delta", "booked for Kyoto", "traveling with Kids", "I'm Canadian": the name rules
look every candidate word up here (lower-cased) and drop it. Keep the lists to words a travel
chat puts right after a cue; the name rules need a cue anyway.
"""

from __future__ import annotations

_CALENDAR = """
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri
sat today tomorrow tonight yesterday weekend january february march july september october
november december jan feb mar apr jun jul aug sep sept oct nov dec
christmas easter thanksgiving halloween hanukkah diwali ramadan eid new year years spring
fall holidays holiday morning afternoon evening night noon midnight
"""

_TRAVEL = """
hotel hostel inn resort suites suite room rooms airport terminal flight flights train trains
station bus coach ferry cruise car taxi uber lyft airbnb vrbo booking expedia kayak skyscanner
tripadvisor trivago agoda hertz avis sixt enterprise europcar budget eurail interrail
amtrak eurostar trenitalia italo renfe sncf tgv ouigo db bahn shinkansen jr pass visa
mastercard amex paypal revolut wise apple google stripe economy business first premium
basic standard deluxe double single twin suite breakfast lunch dinner brunch
check checkin checkout gate seat seats aisle window luggage baggage bag bags passport
passports tickets ticket itinerary reservation reservations confirmation customer guest
guests passenger passengers traveler travelers traveller travellers team support service
everyone everybody family friends kids children adults adult infant infants baby babies
teens pets dog dogs cat group tour tours guide guides the a an my our your his her their
this that these those all both some any two three four five six seven eight nine ten
wifi spa gym pool parking shuttle transfer transfers museum museums beach old town
extra extras bed beds cot crib insurance meal meals upgrade upgrades bike bikes
city center centre downtown airport international national grand royal palace marriott
hilton hyatt accor ihg wyndham bonvoy honors radisson sheraton westin ritz four seasons
holiday best western ibis novotel mercure premier travelodge gold silver platinum
diamond elite member members sir madam madame sirs staff manager concierge reception desk
front aboard everyone all ladies gentlemen folks guys there world welcome thanks thank
please sorry hello hi hey dear regards cheers sincerely noted confirmed understood great
perfect awesome yes no maybe okay ok sure got will can could would should let here
"""

_AIRLINES = """
delta united american southwest jetblue alaska hawaiian spirit frontier allegiant
air airways airlines airline lufthansa ryanair easyjet klm qantas iberia alitalia ita
vueling emirates etihad qatar turkish swiss austrian aer lingus norwegian wizz finnair sas
latam avianca aeromexico volaris virgin atlantic british cathay singapore jal korean
asiana china thai malaysia garuda jetstar westjet icelandair tap brussels
condor eurowings transavia level aegean lot tarom copa azul gol jetsmart interjet
"""

_PLACES = """
paris london tokyo kyoto osaka rome milan venice florence naples madrid barcelona seville
valencia lisbon porto berlin munich hamburg frankfurt vienna prague budapest amsterdam
rotterdam brussels bruges zurich geneva lucerne copenhagen stockholm oslo helsinki reykjavik
dublin edinburgh glasgow manchester liverpool athens santorini istanbul dubai doha cairo
marrakech cape town johannesburg nairobi new york boston chicago miami orlando seattle
portland denver austin dallas houston phoenix vegas las los angeles san francisco diego
honolulu hawaii maui vancouver toronto montreal quebec mexico cancun tulum oaxaca havana
lima cusco rio janeiro paulo buenos aires santiago bogota cartagena sydney melbourne
brisbane perth auckland queenstown bali jakarta bangkok phuket singapore hong kong seoul
busan beijing shanghai taipei hanoi saigon manila delhi mumbai goa jaipur kathmandu
nice lyon marseille bordeaux provence tuscany amalfi sicily sardinia crete mallorca ibiza
canaries tenerife algarve scotland ireland england wales france spain italy germany
portugal greece japan china india thailand vietnam australia zealand canada usa america
europe asia africa morocco egypt peru chile brazil argentina colombia iceland norway
sweden denmark finland switzerland austria netherlands belgium croatia dubrovnik split
heathrow gatwick jfk lax sfo cdg schiphol narita haneda changi fiumicino orly ohare
logan barajas stansted luton malpensa linate tegel brandenburg dulles midway hobby incheon
kempinski sacher marquis alamo dollar thrifty
washington square fuji eiffel tower louvre colosseum vatican alps disney disneyland
"""

# Places and words that are also given names ("Florence", "Sydney", "May"): dropped only when
# every word of the candidate is one of these.
_SOFT = """
may june april august summer autumn winter florence sydney austin dallas georgia virginia
carolina savannah charlotte victoria adelaide chelsea kensington camden brooklyn paris sun
mount lake river bay island islands isle coast valley national monument memorial bridge
cathedral church temple shrine castle market square garden gardens street avenue road
park central hyde king queen tower hall opera house building stadium arena zoo aquarium falls canyon
peak harbour harbor pier port fort gate wall
"""

_DEMONYMS = """
american british english canadian australian french german spanish italian portuguese dutch
japanese chinese korean indian mexican brazilian irish scottish swiss swedish norwegian
danish finnish greek turkish polish russian ukrainian vegan vegetarian gluten allergic
diabetic pregnant retired single married sure ok okay fine here there back home new
not also just still so very really excited planning looking traveling travelling flying
going hoping trying wondering thinking happy glad sorry interested available
"""

# A candidate containing one of these is cut before it ("Maria Gonzalez Tuesday" -> "Maria
# Gonzalez") or dropped when it starts with one ("Hotel Granvia", "British Airways").
HARD_STOP: frozenset[str] = frozenset((_CALENDAR + _TRAVEL + _AIRLINES + _DEMONYMS).split())
# A candidate made only of these is dropped ("Paris", "New York" is caught by HARD_STOP "new").
SOFT_STOP: frozenset[str] = frozenset((_PLACES + _SOFT).split())

# Lower-case words that end a lower-case name after "my name is" ("my name is ana and I ...").
FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    and or but i im i'm my me we you he she it they is are was were be been am on in at to
    from for with of by as the a an this that what how when where why who please thanks
    thank hi hello hey here there not no yes also just so very can could would will should
    need want have has had do does did booking booked traveling travelling flying going
    then now after before yesterday today tomorrow when if so also
    y e et und och og en ed o ou oder e pero mais aber ma und
    """.split()
)

# A candidate whose last word is one of these is a place ("Lincoln Memorial", "Anne Frank
# House", "Rockefeller Center"). "Park" is left out: it is also a common surname.
PLACE_SUFFIX: frozenset[str] = frozenset(
    """
    memorial center centre museum cathedral tower bridge square palace station gardens market
    castle temple shrine house hall gate monument church basilica abbey stadium arena theatre
    theater opera zoo aquarium library university college airport hotel plaza street avenue
    road boulevard beach island lake mountain falls building mall bar restaurant café cafe
    club inn resort lodge hostel villa wharf pier harbour harbor terminal observatory
    """.split()
)
