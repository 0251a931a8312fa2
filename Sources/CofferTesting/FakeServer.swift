import CSodium
import Hummingbird
