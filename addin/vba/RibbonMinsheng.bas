Attribute VB_Name = "RibbonMinsheng"
' minsheng ribbon: every button of the add-in's tab calls OnButton with its tag; Python does the work.
' Adding a button is one line of customUI14.xml and one function in minsheng/addin.py.
Option Explicit

Sub OnButton(control As IRibbonControl)
    ' The module name is written out: deriving it from the file name breaks when the file is renamed.
    RunPython "import minsheng.addin as a; a.dispatch('" & control.Tag & "')"
End Sub
