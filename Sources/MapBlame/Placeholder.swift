import CShims
import CElfUtils
